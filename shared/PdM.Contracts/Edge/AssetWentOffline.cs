namespace PdM.Contracts.Edge;

/// <summary>
/// The gateway saw an asset's data source go away: a Sparkplug edge node's death certificate (NDEATH,
/// matching the bdSeq of its NBIRTH) or a device's DDEATH. Consumers stop expecting readings for the asset
/// until data resumes; a missing reading is then "offline", not "silently healthy".
/// </summary>
public sealed record AssetWentOffline
{
    /// <summary>Stable id of this event: consumers deduplicate on it.</summary>
    public required Guid EventId { get; init; }

    public required string SiteId { get; init; }

    public required string AssetId { get; init; }

    public required AssetOfflineReason Reason { get; init; }

    /// <summary>Sparkplug group id, when the source is Sparkplug B.</summary>
    public string? GroupId { get; init; }

    public string? EdgeNodeId { get; init; }

    /// <summary>Set when a device (DDEATH, or a device of a dead node) went away rather than the node's own metrics.</summary>
    public string? DeviceId { get; init; }

    /// <summary>The birth/death sequence number of the node session that ended (NDEATH only).</summary>
    public long? BdSeq { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}

public enum AssetOfflineReason
{
    /// <summary>The edge node's MQTT session ended (NDEATH); every device behind it is offline too.</summary>
    EdgeNodeDeath = 0,

    /// <summary>The edge node reported one device gone (DDEATH).</summary>
    DeviceDeath = 1,
}
