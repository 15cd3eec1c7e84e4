using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using PdM.Contracts.Models;
using PdM.ModelPackage;

namespace PdM.Edge.Inference;

/// <summary>The outcome of putting a package into a slot.</summary>
public sealed record DeploymentResult(bool Succeeded, ModelIdentity? Model, string? FailureCode, string? Detail)
{
    public static DeploymentResult Deployed(ModelIdentity model) => new(true, model, null, null);

    public static DeploymentResult Failed(string code, string detail) => new(false, null, code, detail);
}

/// <summary>
/// One asset class's models: the production version (hot-swappable), the previous version kept for automatic
/// rollback, an optional shadow candidate, an optional canary that decides for a stable share of the assets, and
/// the micro-batcher that scores rows for all assets of the class. Every model run takes a lease on one version, so
/// a batch never mixes versions (a batch with canary rows is split into one run per version) and a swapped-out
/// session is disposed only when its last batch has finished.
/// </summary>
/// <remarks>
/// This type is the lifecycle: load, warm-up, swap, shadow, canary, rollback. Scoring (micro-batching and the model
/// runs) is <see cref="SlotBatchScorer"/>'s; the two meet at the version leases (<see cref="AcquireCurrent"/> and
/// siblings) and at the two reports scoring sends back (<see cref="OnMisbehaving"/>, <see cref="ReportShadowIfDue"/>).
/// </remarks>
public sealed partial class ModelSlot : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly InferenceOptions _options;
    private readonly TimeProvider _time;
    private readonly InferenceTelemetry _telemetry;
    private readonly IInferenceEventSink _events;
    private readonly Action<ModelSlot> _rolledBack;
    private readonly ILogger _logger;
    private readonly SlotBatchScorer _scoring;
    private SlotVersion? _current;
    private ScorerHandle? _previous;
    private ShadowEvaluator? _shadow;
    private SlotVersion? _canary;
    private PackageRejection? _loadFailure;
    private DateTimeOffset _nextShadowReport;

    internal ModelSlot(string assetClass, InferenceOptions options, TimeProvider time, InferenceTelemetry telemetry, IInferenceEventSink events, Action<ModelSlot> rolledBack, ILogger logger)
    {
        AssetClass = assetClass;
        _options = options;
        _time = time;
        _telemetry = telemetry;
        _events = events;
        _rolledBack = rolledBack;
        _logger = logger;
        _scoring = new SlotBatchScorer(this, options, time, telemetry, logger);
    }

    public string AssetClass { get; }

    public ModelIdentity? Current => Volatile.Read(ref _current)?.Handle.Scorer.Identity;

    public ModelIdentity? Previous
    {
        get
        {
            lock (_gate)
            {
                return _previous?.Scorer.Identity;
            }
        }
    }

    public ModelIdentity? Shadow => Volatile.Read(ref _shadow)?.Candidate.Scorer.Identity;

    /// <summary>The canary version, deciding for <see cref="CanaryShare"/> of the assets; null without a canary.</summary>
    public ModelIdentity? Canary => Volatile.Read(ref _canary)?.Handle.Scorer.Identity;

    /// <summary>0..1 share of the class's assets the canary decides for; null without a canary.</summary>
    public double? CanaryShare => Volatile.Read(ref _canary)?.Share;

    /// <summary>The last failed deployment while the slot has no working model; null once a model is deployed.</summary>
    public PackageRejection? LoadFailure => Volatile.Read(ref _loadFailure);

    public BreakerState BreakerState => Volatile.Read(ref _current)?.Breaker.State ?? BreakerState.Closed;

    /// <summary>The shadow comparison since the last report, or null without a shadow.</summary>
    public ShadowStatistics? ShadowStatistics => Volatile.Read(ref _shadow)?.Snapshot();

    internal bool HasModel => Volatile.Read(ref _current) is not null || Volatile.Read(ref _canary) is not null;

    /// <summary>Asks the breaker of the version that would score an asset in <paramref name="bucket"/>.</summary>
    internal bool BreakerAllows(int bucket)
    {
        var canary = Volatile.Read(ref _canary);
        return canary is not null && bucket < canary.ShareBuckets
            ? canary.Breaker.AllowsRequest()
            : Volatile.Read(ref _current)?.Breaker.AllowsRequest() ?? true;
    }

    /// <summary>Warms the package up on its golden vectors, then makes it the production version; the old one is kept for rollback.</summary>
    public DeploymentResult Deploy(LoadedModelPackage package, string provider)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (!TryLoad(package, provider, out var scorer, out var warmUpError))
        {
            RecordLoadFailure(new PackageRejection(PackageRejectionReason.GoldenVectorRunFailed, "warm-up failed: " + warmUpError));
            return DeploymentResult.Failed("warm_up_failed", warmUpError);
        }

        var handle = new ScorerHandle(scorer);
        ScorerHandle? released;
        SlotVersion? promotedCanary = null;
        ShadowEvaluator? promotedShadow = null;
        lock (_gate)
        {
            var old = _current;
            released = _previous;
            _previous = old?.Handle;
            Volatile.Write(ref _current, new SlotVersion(handle, _options, _time));
            Volatile.Write(ref _loadFailure, null);

            // Promoting the canary's (or the shadow's) package to production replaces it: all assets now get that
            // version, and a shadow compared with itself says nothing.
            if (_canary is { } canary && canary.Handle.Scorer.Identity.Digest == scorer.Identity.Digest)
            {
                promotedCanary = canary;
                Volatile.Write(ref _canary, null);
            }

            if (_shadow is { } shadow && shadow.Candidate.Scorer.Identity.Digest == scorer.Identity.Digest)
            {
                promotedShadow = shadow;
                Volatile.Write(ref _shadow, null);
            }
        }

        released?.Release();
        promotedCanary?.Handle.Release();
        promotedShadow?.Candidate.Release();
        LogDeployed(_logger, AssetClass, scorer.Identity, scorer.Identity.Digest, provider);
        return DeploymentResult.Deployed(scorer.Identity);
    }

    /// <summary>Scores a candidate alongside production without letting it decide; replaces any earlier candidate.</summary>
    public DeploymentResult DeployShadow(LoadedModelPackage package, string provider)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (!TryLoad(package, provider, out var scorer, out var warmUpError))
        {
            return DeploymentResult.Failed("warm_up_failed", warmUpError);
        }

        var evaluator = new ShadowEvaluator(new ScorerHandle(scorer), _time.GetUtcNow());
        ShadowEvaluator? old;
        lock (_gate)
        {
            old = _shadow;
            Volatile.Write(ref _shadow, evaluator);
            _nextShadowReport = _time.GetUtcNow().AddSeconds(_options.ShadowReportIntervalSeconds);
        }

        old?.Candidate.Release();
        LogShadow(_logger, AssetClass, scorer.Identity);
        return DeploymentResult.Deployed(scorer.Identity);
    }

    /// <summary>
    /// Makes the package the canary: it decides for the assets whose <see cref="CanaryRouting.Bucket"/> falls below
    /// <paramref name="share"/>, production for the rest. Replaces any earlier canary. The canary has its own breaker
    /// and rollback window; misbehaving, it is removed and its assets go back to production (<c>ModelRolledBack</c>).
    /// </summary>
    public DeploymentResult DeployCanary(LoadedModelPackage package, string provider, double share)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (!(share > 0 && share <= 1))
        {
            package.Dispose();
            return DeploymentResult.Failed("invalid_canary_share", string.Create(CultureInfo.InvariantCulture, $"a canary share is in (0, 1]; got {share}"));
        }

        if (!TryLoad(package, provider, out var scorer, out var warmUpError))
        {
            return DeploymentResult.Failed("warm_up_failed", warmUpError);
        }

        var version = new SlotVersion(new ScorerHandle(scorer), _options, _time, share);
        SlotVersion? old;
        lock (_gate)
        {
            old = _canary;
            Volatile.Write(ref _canary, version);
        }

        old?.Handle.Release();
        LogCanary(_logger, AssetClass, scorer.Identity, share);
        return DeploymentResult.Deployed(scorer.Identity);
    }

    /// <summary>Stops the canary: all assets go back to production; the session goes when its last batch ends.</summary>
    public void ClearCanary()
    {
        SlotVersion? old;
        lock (_gate)
        {
            old = _canary;
            Volatile.Write(ref _canary, null);
        }

        old?.Handle.Release();
    }

    /// <summary>Removes the canary and/or shadow whose package digest this is (archived by the registry); true when one was removed.</summary>
    public bool RemoveCandidate(string digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        SlotVersion? canary = null;
        ShadowEvaluator? shadow = null;
        lock (_gate)
        {
            if (_canary is { } c && c.Handle.Scorer.Identity.Digest == digest)
            {
                canary = c;
                Volatile.Write(ref _canary, null);
            }

            if (_shadow is { } s && s.Candidate.Scorer.Identity.Digest == digest)
            {
                shadow = s;
                Volatile.Write(ref _shadow, null);
            }
        }

        canary?.Handle.Release();
        shadow?.Candidate.Release();
        return canary is not null || shadow is not null;
    }

    /// <summary>Reports the shadow statistics now (and starts a new period); null without a shadow.</summary>
    public ShadowEvaluationReported? ReportShadow()
    {
        var shadow = Volatile.Read(ref _shadow);
        if (shadow is null)
        {
            return null;
        }

        var report = shadow.TakeReport(_options.GatewayId, AssetClass, Current, _time.GetUtcNow());
        _events.ShadowEvaluationReported(report);
        return report;
    }

    /// <summary>Stops shadow scoring; the candidate's session goes when its last batch ends.</summary>
    public void ClearShadow()
    {
        ShadowEvaluator? old;
        lock (_gate)
        {
            old = _shadow;
            Volatile.Write(ref _shadow, null);
        }

        old?.Candidate.Release();
    }

    internal void RecordLoadFailure(PackageRejection rejection)
    {
        if (!HasModel)
        {
            Volatile.Write(ref _loadFailure, rejection);
        }
    }

    /// <summary>
    /// Queues one row for scoring. Unless <paramref name="deferRun"/>, the queue is run at once (on this thread when the
    /// slot is idle); a deferring caller queues its other rows first and then calls <see cref="RunQueued"/>.
    /// </summary>
    internal ValueTask<ScoreResult> ScoreAsync(IReadOnlyList<string> names, ReadOnlyMemory<float> values, int bucket, bool deferRun = false) =>
        _scoring.ScoreAsync(names, values, bucket, deferRun);

    /// <summary>Scores the rows queued with <c>deferRun</c>, together.</summary>
    internal void RunQueued() => _scoring.RunQueued();

    /// <summary>
    /// Completes once every row queued before the call has been scored, its callers answered, and the shadow
    /// comparison and any due report done: for an orderly shutdown, or before reading shadow statistics.
    /// </summary>
    public ValueTask DrainAsync() => _scoring.DrainAsync();

    /// <summary>Opens a session on the package and warms it up; a session that fails its warm-up is disposed.</summary>
    private bool TryLoad(LoadedModelPackage package, string provider, [NotNullWhen(true)] out OnnxScorer? scorer, [NotNullWhen(false)] out string? error)
    {
        var loaded = new OnnxScorer(package, provider, _options.MaxBatchSize, _options.OodMargin);
        error = WarmUp(loaded);
        if (error is not null)
        {
            loaded.Dispose();
            scorer = null;
            return false;
        }

        scorer = loaded;
        return true;
    }

    /// <summary>
    /// Runs the golden vectors through the new session before it takes traffic, so the first real batch does not
    /// pay for ONNX Runtime's lazy initialisation. Bounded by the warm-up timeout like any batch.
    /// </summary>
    private string? WarmUp(OnnxScorer scorer)
    {
        var cases = scorer.Package.Manifest.GoldenVectors.Cases;
        if (cases.Count == 0)
        {
            return null;
        }

        var features = scorer.FeatureCount;
        var rows = Math.Min(cases.Count, scorer.MaxBatchSize);
        var input = new float[rows * features];
        for (var r = 0; r < rows; r++)
        {
            for (var j = 0; j < features; j++)
            {
                input[(r * features) + j] = cases[r].Input[j];
            }
        }

        var results = new ModelScore[rows];
        using var runOptions = new RunOptions();
        using var timer = _time.CreateTimer(static state => ((RunOptions)state!).Terminate = true, runOptions, TimeSpan.FromMilliseconds(_options.WarmUpTimeoutMs), Timeout.InfiniteTimeSpan);
        if (!scorer.ScoreBatch(input, rows, results, runOptions, out var error))
        {
            return error;
        }

        foreach (var result in results)
        {
            if (result.Outcome != ScoreOutcome.Ok)
            {
                return "a golden vector produced " + result.Outcome;
            }
        }

        return null;
    }

    /// <summary>A lease on the production version (null without one); the caller releases it after its run.</summary>
    internal SlotVersion? AcquireCurrent()
    {
        while (true)
        {
            var version = Volatile.Read(ref _current);
            if (version is null || version.Handle.TryAcquire())
            {
                return version;
            }
        }
    }

    internal SlotVersion? AcquireCanary()
    {
        while (true)
        {
            var canary = Volatile.Read(ref _canary);
            if (canary is null || canary.Handle.TryAcquire())
            {
                return canary;
            }
        }
    }

    internal ShadowEvaluator? AcquireShadow()
    {
        while (true)
        {
            var shadow = Volatile.Read(ref _shadow);
            if (shadow is null || shadow.Candidate.TryAcquire())
            {
                return shadow;
            }
        }
    }

    /// <summary>Scoring saw <paramref name="version"/> misbehave: a canary is removed, production rolls back.</summary>
    internal void OnMisbehaving(SlotVersion version, string reason, bool isCanary)
    {
        if (isCanary)
        {
            RollBackCanary(version, reason);
        }
        else
        {
            RollBack(version, reason);
        }
    }

    /// <summary>Scoring saw <paramref name="version"/>'s rows cross the drift threshold, worst at <paramref name="feature"/>.</summary>
    internal void OnDrift(SlotVersion version, int feature)
    {
        var drift = version.Drift!;
        var identity = version.Handle.Scorer.Identity;
        var psi = new Dictionary<string, double>(drift.FeatureNames.Count, StringComparer.Ordinal);
        for (var f = 0; f < drift.FeatureNames.Count; f++)
        {
            psi[drift.FeatureNames[f]] = drift.Psi(f);
        }

        LogDrift(_logger, AssetClass, identity, drift.FeatureNames[feature], drift.Psi(feature), _options.DriftPsiThreshold, drift.Count);
        _events.ModelDriftDetected(new ModelDriftDetected
        {
            EventId = Guid.NewGuid(),
            GatewayId = _options.GatewayId,
            AssetClass = AssetClass,
            ModelName = identity.Name,
            ModelVersion = identity.Version,
            ModelDigest = identity.Digest,
            Feature = drift.FeatureNames[feature],
            Psi = drift.Psi(feature),
            Threshold = _options.DriftPsiThreshold,
            FeaturePsi = psi,
            WindowRows = drift.Count,
            OccurredAt = _time.GetUtcNow(),
        });
    }

    /// <summary>The versions that decide (production, canary) with their drift monitors, for the drift gauge.</summary>
    internal IEnumerable<(ModelIdentity Model, DriftMonitor Drift)> DriftMonitors()
    {
        if (Volatile.Read(ref _current) is { Drift: { } current } production)
        {
            yield return (production.Handle.Scorer.Identity, current);
        }

        if (Volatile.Read(ref _canary) is { Drift: { } drift } canary)
        {
            yield return (canary.Handle.Scorer.Identity, drift);
        }
    }

    /// <summary>Sends the shadow report when its interval has passed (called after each batch).</summary>
    internal void ReportShadowIfDue()
    {
        if (Volatile.Read(ref _shadow) is not null && _time.GetUtcNow() >= _nextShadowReport)
        {
            _nextShadowReport = _time.GetUtcNow().AddSeconds(_options.ShadowReportIntervalSeconds);
            ReportShadow();
        }
    }

    private void RollBack(SlotVersion failing, string reason)
    {
        ScorerHandle restored;
        lock (_gate)
        {
            if (!ReferenceEquals(_current, failing) || _previous is null)
            {
                return;
            }

            restored = _previous;
            _previous = null;
            Volatile.Write(ref _current, new SlotVersion(restored, _options, _time));
        }

        var from = failing.Handle.Scorer.Identity;
        var to = restored.Scorer.Identity;
        failing.Handle.Release();
        _telemetry.Rollback(AssetClass);
        LogRolledBack(_logger, AssetClass, from, to, reason);
        ReportRolledBack(failing, from, to, reason);
    }

    /// <summary>A misbehaving canary is removed: its assets go back to production, and the registry hears why.</summary>
    private void RollBackCanary(SlotVersion failing, string reason)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(_canary, failing))
            {
                return;
            }

            Volatile.Write(ref _canary, null);
        }

        var from = failing.Handle.Scorer.Identity;
        var to = Current;
        failing.Handle.Release();
        _telemetry.Rollback(AssetClass);
        LogCanaryRolledBack(_logger, AssetClass, from, to?.ToString() ?? "the rules", reason);
        ReportRolledBack(failing, from, to, reason);
    }

    /// <summary>
    /// Tells the registry (through the event sink) which version was taken out and what decides instead, and the owner
    /// (which keeps the local store's record in line).
    /// </summary>
    private void ReportRolledBack(SlotVersion failing, ModelIdentity from, ModelIdentity? to, string reason)
    {
        _events.ModelRolledBack(new ModelRolledBack
        {
            EventId = Guid.NewGuid(),
            GatewayId = _options.GatewayId,
            AssetClass = AssetClass,
            FromModelName = from.Name,
            FromModelVersion = from.Version,
            FromModelDigest = from.Digest,
            ToModelName = to?.Name ?? string.Empty,
            ToModelVersion = to?.Version ?? string.Empty,
            ToModelDigest = to?.Digest ?? string.Empty,
            Reason = reason,
            WindowRows = failing.Monitor.Count,
            OccurredAt = _time.GetUtcNow(),
        });

        _rolledBack(this);
    }

    public async ValueTask DisposeAsync()
    {
        await _scoring.DisposeAsync().ConfigureAwait(false);
        lock (_gate)
        {
            _current?.Handle.Release();
            _previous?.Release();
            _shadow?.Candidate.Release();
            _canary?.Handle.Release();
            _current = null;
            _previous = null;
            _shadow = null;
            _canary = null;
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{AssetClass}: {Current?.ToString() ?? "no model"}");

    [LoggerMessage(Level = LogLevel.Information, Message = "Asset class {AssetClass}: deployed {Model} ({Digest}) on {Provider}")]
    private static partial void LogDeployed(ILogger logger, string assetClass, ModelIdentity model, string digest, string provider);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Asset class {AssetClass}: {Model} has drifted from its training data: PSI of {Feature} is {Psi:0.###} > {Threshold} over the last {Rows} rows")]
    private static partial void LogDrift(ILogger logger, string assetClass, ModelIdentity model, string feature, double psi, double threshold, int rows);

    [LoggerMessage(Level = LogLevel.Information, Message = "Asset class {AssetClass}: shadow candidate {Model}")]
    private static partial void LogShadow(ILogger logger, string assetClass, ModelIdentity model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Asset class {AssetClass}: rolled back from {From} to {To}: {Reason}")]
    private static partial void LogRolledBack(ILogger logger, string assetClass, ModelIdentity from, ModelIdentity to, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Asset class {AssetClass}: canary {Model} decides for a share of {Share} of the assets")]
    private static partial void LogCanary(ILogger logger, string assetClass, ModelIdentity model, double share);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Asset class {AssetClass}: canary {From} removed, its assets go back to {To}: {Reason}")]
    private static partial void LogCanaryRolledBack(ILogger logger, string assetClass, ModelIdentity from, string to, string reason);
}
