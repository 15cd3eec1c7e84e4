using System.ComponentModel.DataAnnotations;

namespace PdM.Edge.Inference;

/// <summary>The <c>Inference</c> configuration section. Defaults suit a 2-core edge box (FIELD-NOTES.md).</summary>
public sealed class InferenceOptions : IValidatableObject
{
    public const string SectionName = "Inference";

    /// <summary><c>auto</c> (CUDA if the package and a device have it, else CPU), <c>cuda</c>, <c>tensorrt</c> or <c>cpu</c>.</summary>
    [Required]
    [RegularExpression("^(auto|cuda|tensorrt|cpu)$")]
    public string ExecutionProvider { get; set; } = "auto";

    [Range(0, 64)]
    public int GpuDeviceId { get; set; }

    /// <summary>One thread each: the ONNX Runtime defaults burn both cores of a small box and are slower at small batches.</summary>
    [Range(1, 64)]
    public int IntraOpNumThreads { get; set; } = 1;

    [Range(1, 64)]
    public int InterOpNumThreads { get; set; } = 1;

    /// <summary>Spinning threads trade a core for microseconds; off by default on shared edge CPUs.</summary>
    public bool AllowSpinning { get; set; }

    /// <summary>Rows per ONNX Runtime call; tree ensembles slow down past ~128 rows (FIELD-NOTES.md).</summary>
    [Range(1, 4096)]
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>How long the first row of a batch waits for company. 0 = score whatever is queued right away.</summary>
    [Range(0, 1000)]
    public double MaxBatchWaitMs { get; set; }

    /// <summary>A batch still running after this is terminated and its rows fall back with <c>timeout</c>.</summary>
    [Range(1, 600_000)]
    public double BatchTimeoutMs { get; set; } = 250;

    /// <summary>Upper bound for the golden-vector warm-up of a new version (and for the loader's golden-vector check).</summary>
    [Range(1, 600_000)]
    public double WarmUpTimeoutMs { get; set; } = 30_000;

    /// <summary>Consecutive failed or timed-out batches that open the breaker.</summary>
    [Range(1, 10_000)]
    public int BreakerFailureThreshold { get; set; } = 5;

    /// <summary>How long the breaker stays open before letting traffic through again (half-open).</summary>
    [Range(0.001, 86_400)]
    public double BreakerCooldownSeconds { get; set; } = 30;

    /// <summary>A feature is out of distribution outside [min − margin·range, max + margin·range] of the training statistics.</summary>
    [Range(0, 100)]
    public double OodMargin { get; set; } = 0.1;

    /// <summary>Folder of installed packages, <c>{store}/{assetClass}/{name}@{version}.zip</c>; null = no store.</summary>
    public string? ModelStorePath { get; set; }

    [Range(1, long.MaxValue)]
    public long MaxModelBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Rows in the sliding window the automatic rollback looks at.</summary>
    [Range(1, 1_000_000)]
    public int RollbackWindowSize { get; set; } = 200;

    /// <summary>No rollback before this many rows have been seen by the new version.</summary>
    [Range(1, 1_000_000)]
    public int RollbackMinSamples { get; set; } = 50;

    /// <summary>Share of rows that failed (run failure, timeout, invalid output) above which the model is rolled back.</summary>
    [Range(0, 1)]
    public double RollbackMaxErrorRate { get; set; } = 0.2;

    /// <summary>Share of out-of-distribution rows above which the model is rolled back.</summary>
    [Range(0, 1)]
    public double RollbackMaxOodRate { get; set; } = 0.5;

    /// <summary>Mean batch latency (ms) above which the model is rolled back.</summary>
    [Range(0.001, 600_000)]
    public double RollbackMaxMeanLatencyMs { get; set; } = 100;

    /// <summary>How often shadow statistics are reported (ShadowEvaluationReported).</summary>
    [Range(1, 86_400)]
    public double ShadowReportIntervalSeconds { get; set; } = 60;

    [Required]
    public string GatewayId { get; set; } = "gateway";

    /// <summary>
    /// Scored rows per model version in the sliding window the drift monitor compares with the package's training
    /// distribution (manifest <c>trainingDistribution</c>; a package without it is not monitored).
    /// </summary>
    [Range(10, 1_000_000)]
    public int DriftWindowSize { get; set; } = 1000;

    /// <summary>No drift is computed, exported or raised before the window holds this many rows: PSI over a few rows is noise.</summary>
    [Range(10, 1_000_000)]
    public int DriftMinRows { get; set; } = 300;

    /// <summary>
    /// Population stability index of a feature above which <c>ModelDriftDetected</c> is raised (0.2 is the usual
    /// "significant shift"; a window of N rows over 10 bins reads about 9/N for undrifted data).
    /// </summary>
    [Range(0.001, 100)]
    public double DriftPsiThreshold { get; set; } = 0.2;

    /// <summary>
    /// Hysteresis: after a crossing, drift is raised again only once every feature has fallen below this PSI, so a
    /// PSI hovering at the threshold does not raise an event per batch.
    /// </summary>
    [Range(0, 100)]
    public double DriftPsiClearBelow { get; set; } = 0.1;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!(DriftPsiClearBelow < DriftPsiThreshold))
        {
            yield return new ValidationResult($"Inference:DriftPsiClearBelow ({DriftPsiClearBelow}) must be below Inference:DriftPsiThreshold ({DriftPsiThreshold})",
                [nameof(DriftPsiClearBelow), nameof(DriftPsiThreshold)]);
        }

        if (DriftMinRows > DriftWindowSize)
        {
            yield return new ValidationResult($"Inference:DriftMinRows ({DriftMinRows}) must not exceed Inference:DriftWindowSize ({DriftWindowSize})",
                [nameof(DriftMinRows), nameof(DriftWindowSize)]);
        }
    }
}
