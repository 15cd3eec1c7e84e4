namespace PdM.Contracts.Registry;

/// <summary>A model version passed the package validation and was stored by the registry (stage Candidate).</summary>
public sealed record ModelVersionRegistered
{
    public required Guid EventId { get; init; }

    public required string ModelName { get; init; }

    public required string ModelVersion { get; init; }

    public required string AssetClass { get; init; }

    /// <summary>SHA-256 package digest (PdM.ModelPackage.PackageDigest), lower-case hex.</summary>
    public required string PackageDigest { get; init; }

    /// <summary>SHA-256 of the package zip served at <see cref="ArtifactUrl"/>, lower-case hex.</summary>
    public required string ArtifactSha256 { get; init; }

    public required string ArtifactUrl { get; init; }

    public required string UploadedBy { get; init; }

    /// <summary>From the manifest's provenance, when it names them.</summary>
    public string? TrainingRun { get; init; }

    public string? DatasetDigest { get; init; }

    /// <summary>The training run that produced the package, when it was registered from one (<see cref="RegisterTrainedModel"/>).</summary>
    public Guid? TrainingRunId { get; init; }

    /// <summary>The feature-store snapshot the run learned from (its digest is <see cref="DatasetDigest"/>).</summary>
    public Guid? DatasetSnapshotId { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
