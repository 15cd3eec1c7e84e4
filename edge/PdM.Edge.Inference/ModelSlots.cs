using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.ModelPackage;

namespace PdM.Edge.Inference;

/// <summary>
/// The gateway's models: one <see cref="ModelSlot"/> per asset class, the execution provider they run on, package
/// loading (validated by PdM.ModelPackage, with this gateway's session options), and the local store's record of
/// what runs (<see cref="StoreState"/>), which a slot's automatic rollback brings up to date.
/// </summary>
public sealed partial class ModelSlots : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ModelSlot> _slots = new(StringComparer.Ordinal);
    private readonly InferenceOptions _options;
    private readonly TimeProvider _time;
    private readonly InferenceTelemetry _telemetry;
    private readonly IInferenceEventSink _events;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ExecutionProviderSelector _providers;

    public ModelSlots(IOptions<InferenceOptions> options, TimeProvider time, InferenceTelemetry telemetry, IInferenceEventSink events, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(telemetry);
        _options = options.Value;
        _time = time;
        _telemetry = telemetry;
        _events = events;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ModelSlots>();
        _providers = new ExecutionProviderSelector(_options, _logger);
        StoreState = new ModelStoreState(this, _options, loggerFactory.CreateLogger<ModelStoreState>());        telemetry.Observe(this);
    }

    /// <summary>The local model store's record of the roles each class runs (what <see cref="LoadFromStore"/> restores).</summary>
    public ModelStoreState StoreState { get; }

    /// <summary>The execution provider every session runs on: <c>cpu</c>, <c>cuda</c> or <c>tensorrt</c> (also the <c>provider</c> metric tag).</summary>
    public string ActiveProvider => _providers.ActiveProvider;

    public ModelSlot? Find(string assetClass) => _slots.TryGetValue(assetClass, out var slot) ? slot : null;

    public IReadOnlyList<ModelSlot> All => [.. _slots.Values];

    /// <summary>Loads, validates, warms up and hot-swaps a package into its asset class's slot.</summary>
    public DeploymentResult Deploy(string assetClass, string packagePath) => Put(assetClass, Read(packagePath), packagePath, Role.Production, 1);

    /// <summary>
    /// Loads exactly these bytes (the ones the caller verified: nothing is read from disk again) as the class's
    /// production model; <paramref name="source"/> only names them in logs.
    /// </summary>
    public DeploymentResult Deploy(string assetClass, ModelPackageFiles files, string source) => Put(assetClass, (files, null), source, Role.Production, 1);

    /// <summary>Loads a candidate to be scored in the shadow of the asset class's production model.</summary>
    public DeploymentResult DeployShadow(string assetClass, string packagePath) => Put(assetClass, Read(packagePath), packagePath, Role.Shadow, 1);

    /// <summary>The shadow from bytes the caller already holds (and verified).</summary>
    public DeploymentResult DeployShadow(string assetClass, ModelPackageFiles files, string source) => Put(assetClass, (files, null), source, Role.Shadow, 1);

    /// <summary>
    /// Loads a canary that decides for <paramref name="share"/> (0..1] of the class's assets, chosen by a stable hash
    /// of the asset id (<see cref="CanaryRouting"/>); production decides for the rest. Replaces any earlier canary.
    /// </summary>
    public DeploymentResult DeployCanary(string assetClass, string packagePath, double share) => Put(assetClass, Read(packagePath), packagePath, Role.Canary, share);

    /// <summary>The canary from bytes the caller already holds (and verified).</summary>
    public DeploymentResult DeployCanary(string assetClass, ModelPackageFiles files, string source, double share) => Put(assetClass, (files, null), source, Role.Canary, share);

    /// <summary>Removes the class's canary and/or shadow with this package digest (the registry archived it); true when one was removed.</summary>
    public bool RemoveCandidate(string assetClass, string packageDigest) => Find(assetClass)?.RemoveCandidate(packageDigest) ?? false;

    /// <summary>
    /// Deploys every asset class in the store: the production package its deployment state names (else the newest
    /// version; older versions are tried when one is refused), the version before it kept for rollback, then the
    /// canary and shadow the state names. Each file is read once; <paramref name="check"/> (the gateway's integrity
    /// check: digest and signature against its trusted keys) sees those bytes and only those bytes are loaded, so a
    /// package changed on disk after its download never decides: the last version that passes does, or the rules.
    /// </summary>
    public int LoadFromStore(LocalModelStore store, StoredPackageCheck? check = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        var deployed = 0;
        foreach (var assetClass in store.AssetClasses())
        {
            var state = store.ReadState(assetClass);
            var production = store.ProductionPath(assetClass, state.Production);
            var candidates = new List<string>();
            if (production is not null)
            {
                candidates.Add(production);
            }

            candidates.AddRange(store.List(assetClass).Select(p => p.Path).Where(p => !string.Equals(p, production, StringComparison.Ordinal)));

            // The chosen version and one other kept for rollback, each verified; deployed oldest first so the chosen one is current.
            var working = new List<(string Path, ModelPackageFiles Files)>();
            foreach (var path in candidates)
            {
                if (working.Count == 2)
                {
                    break;
                }

                if (Verified(assetClass, path, StoredRole.Production, check) is { } files)
                {
                    working.Add((path, files));
                }
            }

            for (var i = working.Count - 1; i >= 0; i--)
            {
                Deploy(assetClass, working[i].Files, working[i].Path);
            }

            if (store.CandidatePath(assetClass, state.Canary) is { } canary && state.CanaryShare is { } share
                && Verified(assetClass, canary, StoredRole.Canary, check) is { } canaryFiles)
            {
                DeployCanary(assetClass, canaryFiles, canary, share);
            }

            if (store.CandidatePath(assetClass, state.Shadow) is { } shadow && Verified(assetClass, shadow, StoredRole.Shadow, check) is { } shadowFiles)
            {
                DeployShadow(assetClass, shadowFiles, shadow);
            }

            deployed += Find(assetClass)?.Current is not null ? 1 : 0;
        }

        return deployed;
    }

    /// <summary>The package's bytes when they are readable and pass <paramref name="check"/>; otherwise null (rejection logged and counted).</summary>
    private ModelPackageFiles? Verified(string assetClass, string path, StoredRole role, StoredPackageCheck? check)
    {
        var (files, rejection) = Read(path);
        rejection ??= files is not null && check is not null ? check(assetClass, path, role, files) : null;
        if (rejection is null)
        {
            return files;
        }

        Reject(GetOrAdd(assetClass), role != StoredRole.Production, path, rejection);
        return null;
    }

    private (ModelPackageFiles? Files, PackageRejection? Rejection) Read(string packagePath) =>
        ModelPackageFiles.Read(packagePath, new ModelPackageLimits { MaxModelBytes = _options.MaxModelBytes });

    private ModelSlot GetOrAdd(string assetClass) => _slots.GetOrAdd(assetClass, static (key, self) =>
        new ModelSlot(key, self._options, self._time, self._telemetry, self._events, self.OnRolledBack, self._loggerFactory.CreateLogger<ModelSlot>()), this);

    /// <summary>
    /// A slot rolled back on its own: the store must not bring the version back at the next start. Written off the
    /// scoring thread (the rollback happens inside a batch, and file I/O must not hold the batch's callers).
    /// </summary>
    private void OnRolledBack(ModelSlot slot) =>
        ThreadPool.QueueUserWorkItem(static state => state.Store.Reconcile(state.AssetClass), (Store: StoreState, slot.AssetClass), preferLocal: false);

    private enum Role
    {
        Production,
        Shadow,
        Canary,
    }

    private DeploymentResult Put(string assetClass, (ModelPackageFiles? Files, PackageRejection? Rejection) read, string packagePath, Role role, double share)
    {
        var shadow = role != Role.Production;
        ArgumentException.ThrowIfNullOrWhiteSpace(assetClass);
        var slot = GetOrAdd(assetClass);
        if (read.Files is not { } files)
        {
            return Reject(slot, shadow, packagePath, read.Rejection!);
        }

        var options = new ModelPackageLoadOptions
        {
            Limits = new ModelPackageLimits { MaxModelBytes = _options.MaxModelBytes },
            SessionOptionsFactory = _providers.CreateSessionOptions,
            GoldenVectorTimeout = TimeSpan.FromMilliseconds(_options.WarmUpTimeoutMs),
        };
        var result = ModelPackageLoader.Load(files, packagePath, options);
        if (result.Rejection is { } rejection)
        {
            return Reject(slot, shadow, packagePath, rejection);
        }

        var package = result.Package!;
        if (package.Manifest.AssetClass != assetClass)
        {
            package.Dispose();
            return Reject(slot, shadow, packagePath, new PackageRejection(PackageRejectionReason.ManifestInvalid,
                "the package is for asset class '" + package.Manifest.AssetClass + "', not '" + assetClass + "'"));
        }

        var deployment = role switch
        {
            Role.Shadow => slot.DeployShadow(package, ActiveProvider),
            Role.Canary => slot.DeployCanary(package, ActiveProvider, share),
            _ => slot.Deploy(package, ActiveProvider),
        };
        _telemetry.Load(deployment.Succeeded ? "loaded" : deployment.FailureCode ?? "failed");
        return deployment;
    }

    private DeploymentResult Reject(ModelSlot slot, bool shadow, string packagePath, PackageRejection rejection)
    {
        LogRejected(_logger, packagePath, slot.AssetClass, rejection.Code, rejection.Detail);
        _telemetry.Load(rejection.Code);
        if (!shadow)
        {
            slot.RecordLoadFailure(rejection);
        }

        return DeploymentResult.Failed(rejection.Code, rejection.Detail);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var slot in _slots.Values)
        {
            await slot.DisposeAsync().ConfigureAwait(false);
        }

        _slots.Clear();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Model package {Path} for asset class {AssetClass} rejected: {Reason}: {Detail}")]
    private static partial void LogRejected(ILogger logger, string path, string assetClass, string reason, string detail);
}

/// <summary>The role a stored package is loaded in at start (its folder and the deployment state say which).</summary>
public enum StoredRole
{
    Production,
    Canary,
    Shadow,
}

/// <summary>
/// Checks a stored package's bytes before they are loaded at start: null to load them, or the refusal. The gateway's
/// is its integrity check (digest and registry signature against the trusted keys).
/// </summary>
public delegate PackageRejection? StoredPackageCheck(string assetClass, string path, StoredRole role, ModelPackageFiles files);
