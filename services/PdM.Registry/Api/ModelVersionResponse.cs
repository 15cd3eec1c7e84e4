using System.Text.Json.Serialization;
using PdM.Contracts.Registry;
using PdM.Registry.Application;
using PdM.Registry.Persistence;

namespace PdM.Registry.Api;

public sealed record SiteDeploymentResponse(
    string SiteId,
    [property: JsonConverter(typeof(JsonStringEnumConverter<ModelStage>))] ModelStage Stage,
    double? CanaryShare,
    [property: JsonConverter(typeof(JsonStringEnumConverter<DeploymentStatus>))] DeploymentStatus Status,
    Guid? DeploymentId,
    string? GatewayId,
    string? Detail,
    string PromotedBy,
    DateTimeOffset UpdatedAt);

public sealed record ModelVersionResponse(
    string ModelName,
    string Version,
    string AssetClass,
    string PackageDigest,
    string ArtifactSha256,
    long ArtifactBytes,
    string ArtifactUrl,
    string UploadedBy,
    DateTimeOffset UploadedAt,
    string? Signature,
    string? SigningKeyId,
    string? ApprovedBy,
    DateTimeOffset? ApprovedAt,
    IReadOnlyList<SiteDeploymentResponse> Sites)
{
    /// <summary>The gateways' shadow statistics for this version, summed over every report.</summary>
    public ShadowEvidence? Shadow { get; init; }

    /// <summary>The latest drift a gateway reported for this version (ModelDriftDetected); null while none has.</summary>
    public DriftReport? Drift { get; init; }

    /// <summary>The planners' outcomes of the work orders this version raised: its live precision.</summary>
    public LivePerformance? Live { get; init; }

    /// <summary>Where the version's model card is served; null when it was pushed without one.</summary>
    public string? CardUrl { get; init; }

    /// <summary>A promotion's answer: which assets of the target sites will decide with the version and which keep the rules.</summary>
    public CompatibilityResponse? Compatibility { get; init; }

    /// <summary>Candidate until promoted anywhere; otherwise the stages at the sites are in <see cref="Sites"/>.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<ModelStage>))]
    public ModelStage HighestStage => Sites.Count == 0 ? ModelStage.Candidate : Sites.Where(s => s.Stage != ModelStage.Archived).Select(s => s.Stage).DefaultIfEmpty(ModelStage.Archived).Max();

    internal static ModelVersionResponse From(ModelVersionRecord v, IEnumerable<SiteDeployment> sites, string artifactUrl) => new(
        v.ModelName, v.Version, v.AssetClass, v.PackageDigest, v.ArtifactSha256, v.ArtifactBytes, artifactUrl, v.UploadedBy, v.UploadedAt,
        v.Signature, v.SigningKeyId, v.ApprovedBy, v.ApprovedAt,
        sites.OrderBy(s => s.SiteId, StringComparer.Ordinal)
            .Select(s => new SiteDeploymentResponse(s.SiteId, s.Stage, s.CanaryShare, s.Status, s.DeploymentId, s.GatewayId, s.Detail, s.PromotedBy, s.UpdatedAt))
            .ToList());
}

public sealed record ModelSummaryResponse(string Name, string AssetClass, string CreatedBy, DateTimeOffset CreatedAt, int Versions);

/// <summary>Body of <c>POST /api/models/{name}/versions/{version}/promote</c>.</summary>
public sealed record PromotionRequest
{
    [JsonConverter(typeof(JsonStringEnumConverter<ModelStage>))]
    public ModelStage Stage { get; init; }

    public IReadOnlyList<string>? SiteIds { get; init; }

    /// <summary>0..1 share of the site's assets; required for Canary.</summary>
    public double? CanaryShare { get; init; }

    /// <summary>
    /// Canary/Production only, admins only: why the version may decide without the gateways' shadow evidence at the
    /// target sites. Recorded with the promotion (<c>ModelPromoted.ShadowGateOverride</c>) in the audit log.
    /// </summary>
    public string? ShadowOverrideReason { get; init; }

    /// <summary>
    /// Deploy although some assets of the target sites lack sensors the version's features read (they keep the rules,
    /// and the promotion's audit record lists them). Without it such a promotion is refused with <c>feature_mismatch</c>.
    /// </summary>
    public bool AllowPartial { get; init; }
}

/// <summary>The feature-compatibility check of a promotion as the API shows it.</summary>
public sealed record CompatibilityResponse(
    IReadOnlyList<AssetSensorCoverage> DecidingAssets,
    IReadOnlyList<AssetSensorCoverage> FallbackAssets,
    IReadOnlyList<string> UncheckedSites,
    IReadOnlyList<string> SitesWithoutAssets,
    bool AllowPartial)
{
    internal static CompatibilityResponse From(FeatureCompatibility c) => new(
        [.. c.Assets.Where(a => a.MissingSensors.Count == 0)],
        [.. c.Assets.Where(a => a.MissingSensors.Count > 0)],
        c.UncheckedSites,
        c.SitesWithoutAssets,
        c.AllowPartial);
}
