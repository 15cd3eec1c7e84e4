namespace PdM.Contracts.Registry;

/// <summary>A gateway refused or could not load the requested package; the previous model stays in place.</summary>
public sealed record ModelDeploymentFailed
{
    public required Guid EventId { get; init; }

    public required Guid DeploymentId { get; init; }

    public required string SiteId { get; init; }

    public required string GatewayId { get; init; }

    public required string ModelName { get; init; }

    public required string ModelVersion { get; init; }

    public required string PackageDigest { get; init; }

    public required ModelStage Stage { get; init; }

    /// <summary>Stable code: a signature refusal (<c>unsigned</c>, <c>bad_signature</c>, <c>digest_mismatch</c>), a package rejection code, <c>download_failed</c>, or <c>feature_mismatch</c> (no asset of the class on the gateway can feed the model's features).</summary>
    public required string Reason { get; init; }

    public required string Detail { get; init; }

    /// <summary>With <c>feature_mismatch</c>: every asset of the class on the gateway and the sensors it lacks.</summary>
    public IReadOnlyList<AssetSensorCoverage>? FallbackAssets { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
