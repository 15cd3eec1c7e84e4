namespace PdM.Contracts.Registry;

/// <summary>
/// Register a package a training run produced as a Candidate version. Sent by the Telemetry module (through its
/// outbox) after a successful run; the registry validates and stores it exactly as an HTTP upload and answers with
/// <see cref="ModelVersionRegistered"/> or <see cref="ModelVersionRejected"/>. A repeated command for the same
/// <see cref="TrainingRunId"/> registers nothing new.
/// </summary>
public sealed record RegisterTrainedModel
{
    public required Guid CommandId { get; init; }

    public required Guid TrainingRunId { get; init; }

    public required Guid DatasetSnapshotId { get; init; }

    /// <summary><c>sha256:</c> + hex of the snapshot's ordered rows, as recorded by the feature store.</summary>
    public string? DatasetDigest { get; init; }

    /// <summary>Who asked for the training run; the registry records them as the uploader (else <c>training-run:{id}</c>).</summary>
    public string? RequestedBy { get; init; }

    public required string ModelName { get; init; }

    public required string ModelVersion { get; init; }

    public required string AssetClass { get; init; }

    /// <summary>PdM.ModelPackage digest (lower-case hex) the trainer computed over the two files below.</summary>
    public required string PackageDigest { get; init; }

    /// <summary>The bytes of <c>model.onnx</c> (base64 in JSON).</summary>
    public required byte[] ModelOnnx { get; init; }

    /// <summary>The bytes of <c>manifest.json</c>, exactly as written.</summary>
    public required byte[] ManifestJson { get; init; }

    /// <summary>The run's <c>model-card.json</c> (its evaluation figures), when it wrote one; kept with the version.</summary>
    public byte[]? ModelCardJson { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
