using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.ModelPackage;

namespace PdM.Edge.Inference;

/// <summary>
/// The gateway's models: one <see cref="ModelSlot"/> per asset class, the execution provider they run on, and
/// package loading (validated by PdM.ModelPackage, with this gateway's session options).
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
        _options = options.Value;
        _time = time;
        _telemetry = telemetry;
        _events = events;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ModelSlots>();
        _providers = new ExecutionProviderSelector(_options, _logger);
    }

    /// <summary>The execution provider every session runs on: <c>cpu</c>, <c>cuda</c> or <c>tensorrt</c> (also the <c>provider</c> metric tag).</summary>
    public string ActiveProvider => _providers.ActiveProvider;

    public ModelSlot? Find(string assetClass) => _slots.TryGetValue(assetClass, out var slot) ? slot : null;

    public IReadOnlyList<ModelSlot> All => [.. _slots.Values];

    /// <summary>Loads, validates, warms up and hot-swaps a package into its asset class's slot.</summary>
    public DeploymentResult Deploy(string assetClass, string packagePath) => Put(assetClass, packagePath, shadow: false);

    /// <summary>Loads a candidate to be scored in the shadow of the asset class's production model.</summary>
    public DeploymentResult DeployShadow(string assetClass, string packagePath) => Put(assetClass, packagePath, shadow: true);

    /// <summary>Deploys the newest version of every asset class in the store; older versions are tried when the newest fails.</summary>
    public int LoadFromStore(LocalModelStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        var deployed = 0;
        foreach (var assetClass in store.AssetClasses())
        {
            var versions = store.List(assetClass);
            // Oldest first, so that after the loop the newest working version is current and the one before it is kept for rollback.
            var working = new List<StoredPackage>();
            foreach (var candidate in versions)
            {
                if (working.Count == 2)
                {
                    break;
                }

                working.Add(candidate);
            }

            for (var i = working.Count - 1; i >= 0; i--)
            {
                Deploy(assetClass, working[i].Path);
            }

            deployed += Find(assetClass)?.Current is not null ? 1 : 0;
        }

        return deployed;
    }

    private ModelSlot GetOrAdd(string assetClass) => _slots.GetOrAdd(assetClass, static (key, self) =>
        new ModelSlot(key, self._options, self._time, self._telemetry, self._events, self._loggerFactory.CreateLogger<ModelSlot>()), this);

    private DeploymentResult Put(string assetClass, string packagePath, bool shadow)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(assetClass);
        var slot = GetOrAdd(assetClass);
        var options = new ModelPackageLoadOptions
        {
            Limits = new ModelPackageLimits { MaxModelBytes = _options.MaxModelBytes },
            SessionOptionsFactory = _providers.CreateSessionOptions,
            GoldenVectorTimeout = TimeSpan.FromMilliseconds(_options.WarmUpTimeoutMs),
        };
        var result = ModelPackageLoader.Load(packagePath, options);
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

        var deployment = shadow ? slot.DeployShadow(package, ActiveProvider) : slot.Deploy(package, ActiveProvider);
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
