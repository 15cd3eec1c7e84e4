namespace PdM.Contracts.Registry;

/// <summary>A gateway verified, validated and loaded the requested package in the requested stage.</summary>
public sealed record ModelDeploymentSucceeded
{
    public required Guid EventId { get; init; }

    public required Guid DeploymentId { get; init; }

    public required string SiteId { get; init; }

    public required string GatewayId { get; init; }

    public required string ModelName { get; init; }

    public required string ModelVersion { get; init; }

    public required string PackageDigest { get; init; }

    public required ModelStage Stage { get; init; }

    public double? CanaryShare { get; init; }

    /// <summary>
    /// Assets of the asset class on this gateway whose sensors cannot feed the model's features: they keep the rules.
    /// Null or empty when every asset can use it. (When none can, the gateway answers <see cref="ModelDeploymentFailed"/>
    /// with reason <c>feature_mismatch</c> instead.)
    /// </summary>
    public IReadOnlyList<AssetSensorCoverage>? FallbackAssets { get; init; }

    /// <summary>How many assets of the asset class on this gateway decide with the model; null from gateways that predate it.</summary>
    public int? DecidingAssets { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
