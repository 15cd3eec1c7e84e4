namespace PdM.Maintenance.Persistence;

/// <summary>A prediction Maintenance could not act on (malformed, unknown site or asset, no CMMS reference), kept with its reason.</summary>
public sealed class PredictionRejection
{
    public Guid Id { get; set; }

    public Guid PredictionId { get; set; }

    public string? SiteId { get; set; }

    public string? AssetId { get; set; }

    public string? FailureMode { get; set; }

    /// <summary>Short machine-readable reason: malformed, unknown-site, unknown-asset, missing-cmms-reference.</summary>
    public required string Reason { get; set; }

    public required string Detail { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }
}
