using System.ComponentModel.DataAnnotations;

namespace PdM.Telemetry;

/// <summary>Section <c>FeatureStore</c>.</summary>
public sealed class FeatureStoreOptions
{
    public const string Section = "FeatureStore";

    /// <summary>Daily partitions whose whole day is older than this many days are dropped.</summary>
    [Range(1, 36_500)]
    public int RetentionDays { get; set; } = 90;

    /// <summary>Partitions created ahead of today by the maintenance loop (a batch creates any other day it needs).</summary>
    [Range(0, 60)]
    public int CreateAheadDays { get; set; } = 3;

    /// <summary>How often partitions are created ahead and old ones dropped.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A batch with more rows is rejected (counted and logged), not loaded.</summary>
    [Range(1, 1_000_000)]
    public int MaxRowsPerBatch { get; set; } = 100_000;
}

/// <summary>Section <c>Training</c>.</summary>
public sealed class TrainingOptions
{
    public const string Section = "Training";

    /// <summary>Folder the model packages are written to, one folder per run (the registry takes over later).</summary>
    [Required]
    public string ModelStorePath { get; set; } = "artifacts/model-store";

    /// <summary>Queued runs beyond this are refused (HTTP 503, bus retry) rather than piling up.</summary>
    [Range(1, 10_000)]
    public int QueueCapacity { get; set; } = 32;

    /// <summary>
    /// A successful run sends its package (model.onnx + manifest.json) to the registry in one message: a package larger
    /// than this fails the run with the sizes instead of sending a message the broker may refuse.
    /// </summary>
    [Range(1024L, 512L * 1024 * 1024)]
    public long MaxRegistrationBytes { get; set; } = 16L * 1024 * 1024;
}
