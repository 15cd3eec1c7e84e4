namespace PdM.Contracts.Registry;

/// <summary>
/// What the registry found when it checked a version's feature spec against the asset inventories the target sites'
/// gateways last reported (their heartbeats): which assets of the version's asset class have every sensor its
/// features read (they will decide with it) and which lack some (they keep the rules).
/// </summary>
public sealed record FeatureCompatibility
{
    /// <summary>Every asset of the asset class at the checked sites, those that will decide and those that will fall back.</summary>
    public required IReadOnlyList<AssetSensorCoverage> Assets { get; init; }

    /// <summary>Target sites from which no gateway has reported its assets yet: nothing could be checked there.</summary>
    public IReadOnlyList<string> UncheckedSites { get; init; } = [];

    /// <summary>Target sites whose gateways reported no asset of the asset class at all: nothing there can use the version.</summary>
    public IReadOnlyList<string> SitesWithoutAssets { get; init; } = [];

    /// <summary>True when the person deploying accepted that some assets fall back (<c>allowPartial</c>).</summary>
    public bool AllowPartial { get; init; }
}

/// <summary>One asset and the sensors a model's features read that it does not report (empty: the model can decide for it).</summary>
public sealed record AssetSensorCoverage
{
    /// <summary>The asset's site; null in a gateway's own answer (its message names the site).</summary>
    public string? SiteId { get; init; }

    /// <summary>The gateway that reported (or holds) the asset.</summary>
    public string? GatewayId { get; init; }

    public required string AssetId { get; init; }

    /// <summary>Sensors the model's feature spec reads that the asset does not have, in the spec's order.</summary>
    public required IReadOnlyList<string> MissingSensors { get; init; }
}
