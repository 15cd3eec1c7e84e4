namespace PdM.Contracts.Training;

/// <summary>A training run moved to a new stage (queued, loading, training, evaluating, packaging).</summary>
public sealed record TrainingRunProgressed
{
    public required Guid RunId { get; init; }

    public required string Stage { get; init; }

    /// <summary>0..100, an estimate for a progress bar.</summary>
    public required int PercentComplete { get; init; }

    public string? Detail { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>A training run finished: with a model package and its lineage, or with the reason it failed.</summary>
public sealed record TrainingRunCompleted
{
    public required Guid RunId { get; init; }

    public required bool Succeeded { get; init; }

    public required Guid SnapshotId { get; init; }

    /// <summary><c>sha256:</c> + hex of the snapshot's ordered rows: the dataset the model learned from.</summary>
    public string? DatasetDigest { get; init; }

    public string? ModelName { get; init; }

    public string? ModelVersion { get; init; }

    /// <summary>PdM.ModelPackage digest (lower-case hex) of the written package.</summary>
    public string? PackageDigest { get; init; }

    public string? PackagePath { get; init; }

    public string? Error { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
