namespace PdM.Contracts.Registry;

/// <summary>
/// The registry asks the gateways of <see cref="SiteIds"/> to download, verify, validate and load a package in
/// <see cref="Stage"/>. Gateways answer with <see cref="ModelDeploymentSucceeded"/> or <see cref="ModelDeploymentFailed"/>.
/// </summary>
public sealed record ModelDeploymentRequested
{
    public required Guid DeploymentId { get; init; }

    public required IReadOnlyList<string> SiteIds { get; init; }

    public required string ModelName { get; init; }

    public required string ModelVersion { get; init; }

    public required string AssetClass { get; init; }

    public required ModelStage Stage { get; init; }

    /// <summary>0..1 share of the site's assets the version drives; Canary only.</summary>
    public double? CanaryShare { get; init; }

    /// <summary>Where the package zip can be fetched (HTTP range requests and ETag supported).</summary>
    public required string ArtifactUrl { get; init; }

    /// <summary>SHA-256 of the zip at <see cref="ArtifactUrl"/>, lower-case hex: check before opening it.</summary>
    public required string ArtifactSha256 { get; init; }

    /// <summary>SHA-256 package digest, lower-case hex: what <see cref="Signature"/> signs.</summary>
    public required string PackageDigest { get; init; }

    /// <summary>Base64 ECDSA P-256 (IEEE P1363) signature over the package digest; null until approved for Production.</summary>
    public string? Signature { get; init; }

    /// <summary>Identifies the registry key that signed, so gateways can hold more than one during a key rotation.</summary>
    public string? SigningKeyId { get; init; }

    public required string RequestedBy { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
