namespace PdM.Edge.Inference;

/// <summary>A deployed version with its own breaker and rollback window: a new version starts with a clean record.</summary>
internal sealed class SlotVersion(ScorerHandle handle, InferenceOptions options, TimeProvider time, double share = 1)
{
    public ScorerHandle Handle { get; } = handle;

    /// <summary>For a canary: the share of assets it decides for, and the buckets that share covers.</summary>
    public double Share { get; } = share;

    public int ShareBuckets { get; } = CanaryRouting.BucketsFor(share);

    public CircuitBreaker Breaker { get; } = new(options.BreakerFailureThreshold, TimeSpan.FromSeconds(options.BreakerCooldownSeconds), time);

    public RollbackMonitor Monitor { get; } = new(options);

    /// <summary>Null for a package without a training distribution (written before manifests carried one).</summary>
    public DriftMonitor? Drift { get; } = handle.Scorer.Package.Manifest.TrainingDistribution is { } distribution ? new DriftMonitor(distribution, options) : null;
}
