namespace PdM.Contracts.Registry;

/// <summary>A person moved a model version to another stage at one or more sites.</summary>
public sealed record ModelPromoted
{
    public required Guid EventId { get; init; }

    /// <summary>The deployment this promotion asked for (<see cref="ModelDeploymentRequested.DeploymentId"/>); none for Archived.</summary>
    public Guid? DeploymentId { get; init; }

    public required string ModelName { get; init; }

    public required string ModelVersion { get; init; }

    public required string PackageDigest { get; init; }

    public required IReadOnlyList<string> SiteIds { get; init; }

    public required ModelStage FromStage { get; init; }

    public required ModelStage ToStage { get; init; }

    /// <summary>0..1; set for Canary.</summary>
    public double? CanaryShare { get; init; }

    public required string PromotedBy { get; init; }

    /// <summary>Who uploaded the version: for Canary and Production, never the same person as <see cref="PromotedBy"/>.</summary>
    public required string UploadedBy { get; init; }

    /// <summary>Package digests this promotion displaced from the same stage at these sites (they become Archived).</summary>
    public IReadOnlyList<string> ReplacedDigests { get; init; } = [];

    /// <summary>Base64 ECDSA P-256 signature over the package digest; set once the version is approved for Canary or Production.</summary>
    public string? Signature { get; init; }

    /// <summary>
    /// Set when an admin let the version decide without the gateways' shadow evidence at these sites: the reason
    /// they gave. Null when the shadow-evidence gate was passed (or did not apply: Shadow, Archived).
    /// </summary>
    public string? ShadowGateOverride { get; init; }

    /// <summary>
    /// The feature-compatibility check against the target sites' asset inventories (Shadow, Canary, Production): which
    /// assets will decide with the version and which fall back, and sites that could not be checked. Null for Archived
    /// and for records written before the check existed.
    /// </summary>
    public FeatureCompatibility? Compatibility { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
