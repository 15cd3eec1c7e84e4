using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace PdM.Rules;

/// <summary>What a (re)load produced: the rulesets answering now and every file currently rejected.</summary>
public sealed record RulesetReload(long Generation, IReadOnlyList<CompiledRuleset> Active, IReadOnlyList<RulesetProblem> Problems);

/// <summary>
/// Loads every ruleset under the configured folder at start, validates and compiles each one, and answers with the
/// highest valid version per asset class. Watches the folder and reloads after a quiet period. A file that fails
/// validation is rejected with its reason; whatever answered before keeps answering (the previous version, or the
/// last good content of the same file when it was edited in place).
/// </summary>
public sealed class RulesetStore : IDisposable
{
    private readonly string _directory;
    private readonly TimeSpan _debounce;
    private readonly RulesTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly Lock _reloadGate = new();
    private readonly ITimer? _debounceTimer;
    private readonly FileSystemWatcher? _watcher;

    // Last good compilation per file path; only touched under _reloadGate.
    private Dictionary<string, CompiledRuleset> _byPath = new(StringComparer.Ordinal);
    private HashSet<string> _reportedProblems = new(StringComparer.Ordinal);
    private volatile Snapshot _snapshot = new(0, FrozenDictionary<string, CompiledRuleset>.Empty, [], []);
    private bool _disposed;
    private bool _ownsTelemetry;

    public RulesetStore(IOptions<RulesetStoreOptions> options, RulesTelemetry telemetry, TimeProvider timeProvider, ILogger<RulesetStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        var settings = options.Value;
        _directory = settings.ResolveDirectory();
        _debounce = settings.ReloadDebounce;
        _telemetry = telemetry;
        _logger = logger;

        Reload();

        if (settings.WatchForChanges && System.IO.Directory.Exists(_directory))
        {
            _debounceTimer = timeProvider.CreateTimer(static state => ((RulesetStore)state!).ReloadFromTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _watcher = new FileSystemWatcher(_directory)
            {
                IncludeSubdirectories = true,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
            };
            _watcher.Changed += OnFileEvent;
            _watcher.Created += OnFileEvent;
            _watcher.Deleted += OnFileEvent;
            _watcher.Renamed += OnFileEvent;
            _watcher.Error += OnWatcherError;
            _watcher.EnableRaisingEvents = true;
        }
    }

    /// <summary>Raised after every reload, from the reloading thread.</summary>
    public event EventHandler<RulesetReload>? Reloaded;

    public string Directory => _directory;

    /// <summary>Increments on every reload, including the one at start (generation 1).</summary>
    public long Generation => _snapshot.Generation;

    /// <summary>The ruleset answering for each asset class: its highest valid version.</summary>
    public IReadOnlyDictionary<string, CompiledRuleset> Active => _snapshot.Active;

    /// <summary>Every valid ruleset loaded, all versions, ordered by asset class then version.</summary>
    public IReadOnlyList<CompiledRuleset> Loaded => _snapshot.Loaded;

    /// <summary>Problems of the files currently rejected; empty when every file is valid.</summary>
    public IReadOnlyList<RulesetProblem> Problems => _snapshot.Problems;

    /// <summary>Creates a store over <paramref name="directory"/> without dependency injection (tools, tests).</summary>
    public static RulesetStore Open(string directory, bool watchForChanges = false, TimeSpan? debounce = null, RulesTelemetry? telemetry = null)
    {
        var options = new RulesetStoreOptions
        {
            Directory = directory,
            WatchForChanges = watchForChanges,
            ReloadDebounce = debounce ?? TimeSpan.FromMilliseconds(500),
        };
        var store = new RulesetStore(Options.Create(options), telemetry ?? new RulesTelemetry(), TimeProvider.System, NullLogger<RulesetStore>.Instance);
        store._ownsTelemetry = telemetry is null;
        return store;
    }

    public CompiledRuleset? Find(string assetClass) =>
        _snapshot.Active.TryGetValue(assetClass, out var ruleset) ? ruleset : null;

    /// <summary>Rescans the folder now. Unchanged files are not recompiled.</summary>
    public RulesetReload Reload()
    {
        RulesetReload result;
        lock (_reloadGate)
        {
            result = ReloadLocked();
        }

        Reloaded?.Invoke(this, result);
        return result;
    }

    public void Dispose()
    {
        lock (_reloadGate)
        {
            _disposed = true;
        }

        _watcher?.Dispose();
        _debounceTimer?.Dispose();
        if (_ownsTelemetry)
        {
            _telemetry.Dispose();
        }
    }

    private RulesetReload ReloadLocked()
    {
        var previous = _byPath;
        var current = new Dictionary<string, CompiledRuleset>(StringComparer.Ordinal);
        var problems = new List<RulesetProblem>();

        var files = System.IO.Directory.Exists(_directory)
            ? System.IO.Directory.GetFiles(_directory, "*" + RulesetCompiler.FileExtension, SearchOption.AllDirectories)
            : [];
        if (files.Length == 0 && !System.IO.Directory.Exists(_directory))
        {
            problems.Add(new RulesetProblem(_directory, null, "the rulesets folder does not exist"));
        }

        Array.Sort(files, StringComparer.Ordinal);
        foreach (var file in files)
        {
            previous.TryGetValue(file, out var lastGood);
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Usually a writer still holding the file; its close raises another event and another reload.
                problems.Add(new RulesetProblem(file, null, $"cannot be read: {ex.Message}" + KeptNote(lastGood)));
                KeepLastGood(current, file, lastGood);
                continue;
            }

            var compilation = lastGood is not null && lastGood.ContentSha256 == Sha256(bytes)
                ? new RulesetCompilation(file, lastGood.ContentSha256, lastGood, [])
                : RulesetCompiler.Compile(file, bytes);
            if (compilation.Ruleset is { } ruleset)
            {
                current[file] = ruleset;
                continue;
            }

            foreach (var problem in compilation.Problems)
            {
                problems.Add(problem with { Message = problem.Message + KeptNote(lastGood) });
            }

            KeepLastGood(current, file, lastGood);
        }

        RejectDuplicateVersions(current, previous, problems);

        var loaded = current.Values
            .OrderBy(r => r.AssetClass, StringComparer.Ordinal)
            .ThenBy(r => r.ParsedVersion)
            .ToArray();
        var active = new Dictionary<string, CompiledRuleset>(StringComparer.Ordinal);
        foreach (var ruleset in loaded)
        {
            active[ruleset.AssetClass] = ruleset;
        }

        var before = _snapshot;
        var snapshot = new Snapshot(before.Generation + 1, active.ToFrozenDictionary(StringComparer.Ordinal), loaded, problems);
        _byPath = current;
        _snapshot = snapshot;
        Report(before, snapshot);
        return new RulesetReload(snapshot.Generation, [.. active.Values], problems);
    }

    /// <summary>
    /// Two files claiming the same version of an asset class are ambiguous. If one of them was already loaded, it
    /// keeps answering and the newcomer is rejected; if neither was, both are rejected.
    /// </summary>
    private static void RejectDuplicateVersions(Dictionary<string, CompiledRuleset> current, Dictionary<string, CompiledRuleset> previous, List<RulesetProblem> problems)
    {
        var groups = current.Values
            .GroupBy(r => (r.AssetClass, r.ParsedVersion))
            .Where(g => g.Count() > 1)
            .ToList();
        foreach (var group in groups)
        {
            var incumbents = group.Where(r => previous.TryGetValue(r.FilePath, out var old)
                && old.AssetClass == r.AssetClass && old.ParsedVersion == r.ParsedVersion).ToList();
            var keeper = incumbents.Count == 1 ? incumbents[0] : null;
            foreach (var ruleset in group)
            {
                if (ReferenceEquals(ruleset, keeper))
                {
                    continue;
                }

                var others = string.Join(", ", group.Where(r => !ReferenceEquals(r, ruleset)).Select(r => r.FilePath));
                problems.Add(new RulesetProblem(ruleset.FilePath, null,
                    $"duplicate version {ruleset.Version} of asset class '{ruleset.AssetClass}', also defined by {others}"));
                current.Remove(ruleset.FilePath);
            }
        }
    }

    private void Report(Snapshot before, Snapshot after)
    {
        _telemetry.Reloaded();
        var reported = new HashSet<string>(StringComparer.Ordinal);
        var fresh = 0;
        foreach (var problem in after.Problems)
        {
            var key = problem.ToString();
            reported.Add(key);
            if (!_reportedProblems.Contains(key))
            {
                fresh++;
                RulesLog.Rejected(_logger, key);
            }
        }

        // Problems are counted once per distinct file content and message, not once per reload they survive.
        _reportedProblems = reported;
        if (fresh > 0)
        {
            _telemetry.Rejected(fresh);
        }

        foreach (var (assetClass, ruleset) in after.Active)
        {
            if (!before.Active.TryGetValue(assetClass, out var old) || !ReferenceEquals(old, ruleset))
            {
                RulesLog.Activated(_logger, ruleset.Name, ruleset.Version, assetClass, ruleset.FilePath);
            }
        }

        foreach (var assetClass in before.Active.Keys)
        {
            if (!after.Active.ContainsKey(assetClass))
            {
                RulesLog.Deactivated(_logger, assetClass);
            }
        }
    }

    private void OnFileEvent(object sender, FileSystemEventArgs e) => ScheduleReload();

    private void OnWatcherError(object sender, ErrorEventArgs e)
    {
        // An inotify overflow loses events: a full rescan is the only safe answer.
        var exception = e.GetException();
        RulesLog.WatcherFailed(_logger, exception, _directory);
        ScheduleReload();
    }

    private void ScheduleReload()
    {
        lock (_reloadGate)
        {
            if (!_disposed)
            {
                _debounceTimer?.Change(_debounce, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void ReloadFromTimer()
    {
        lock (_reloadGate)
        {
            if (_disposed)
            {
                return;
            }
        }

        try
        {
            Reload();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // A reload that fails as a whole changes nothing: the snapshot is only replaced at the end.
            RulesLog.ReloadFailed(_logger, ex, _directory);
        }
    }

    private static void KeepLastGood(Dictionary<string, CompiledRuleset> current, string file, CompiledRuleset? lastGood)
    {
        if (lastGood is not null)
        {
            current[file] = lastGood;
        }
    }

    private static string KeptNote(CompiledRuleset? lastGood) =>
        lastGood is null ? string.Empty : $" (the previously loaded content, {lastGood.Name}@{lastGood.Version}, keeps answering)";

    private static string Sha256(byte[] bytes) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    private sealed record Snapshot(
        long Generation,
        FrozenDictionary<string, CompiledRuleset> Active,
        IReadOnlyList<CompiledRuleset> Loaded,
        IReadOnlyList<RulesetProblem> Problems);
}
