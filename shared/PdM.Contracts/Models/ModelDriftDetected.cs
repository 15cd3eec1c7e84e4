namespace PdM.Contracts.Models;

/// <summary>
/// The rows a gateway's model scored have drifted from the model's training distribution: the population stability
/// index of at least one feature, over the gateway's sliding window of scored rows, crossed the gateway's threshold.
/// Raised once per crossing (it is raised again only after every feature has fallen back below the clear level).
/// </summary>
public sealed record ModelDriftDetected
{
    public required Guid EventId { get; init; }

    public required string GatewayId { get; init; }

    /// <summary>The site the gateway serves (null from a gateway that does not name one).</summary>
    public string? SiteId { get; init; }

    public required string AssetClass { get; init; }

    public required string ModelName { get; init; }

    public required string ModelVersion { get; init; }

    /// <summary>SHA-256 package digest of the drifted version, lower-case hex.</summary>
    public required string ModelDigest { get; init; }

    /// <summary>The feature with the highest PSI.</summary>
    public required string Feature { get; init; }

    /// <summary>Its PSI.</summary>
    public required double Psi { get; init; }

    /// <summary>The gateway's threshold that was crossed.</summary>
    public required double Threshold { get; init; }

    /// <summary>The PSI of every feature at the crossing, by feature name.</summary>
    public required IReadOnlyDictionary<string, double> FeaturePsi { get; init; }

    /// <summary>Scored rows in the window the PSI was computed over.</summary>
    public required int WindowRows { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
