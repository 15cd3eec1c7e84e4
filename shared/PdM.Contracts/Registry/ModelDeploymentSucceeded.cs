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

    public required DateTimeOffset OccurredAt { get; init; }
}
