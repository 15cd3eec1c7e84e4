namespace PdM.Contracts.Registry;

/// <summary>
/// The registry refused a package sent for registration (<see cref="RegisterTrainedModel"/>): the validation's reason
/// code (the package loader's, or <c>name_mismatch</c>, <c>version_exists</c>, …) and its detail.
/// </summary>
public sealed record ModelVersionRejected
{
    public required Guid EventId { get; init; }

    public required string ModelName { get; init; }

    public required string ModelVersion { get; init; }

    public string? AssetClass { get; init; }

    /// <summary>The training run whose package was refused, when it came from one.</summary>
    public Guid? TrainingRunId { get; init; }

    public Guid? DatasetSnapshotId { get; init; }

    public string? DatasetDigest { get; init; }

    public string? PackageDigest { get; init; }

    public required string RequestedBy { get; init; }

    /// <summary>Machine-readable code, e.g. <c>golden_vector_mismatch</c>, <c>manifest_invalid</c>, <c>version_exists</c>.</summary>
    public required string Reason { get; init; }

    public required string Detail { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
