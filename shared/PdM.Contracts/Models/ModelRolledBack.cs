namespace PdM.Contracts.Models;

/// <summary>
/// A gateway rolled an asset class back to the previous model version on its own, because the new version
/// passed a misbehaviour threshold (error rate, latency or out-of-distribution rate over a sliding window).
/// </summary>
public sealed record ModelRolledBack
{
    public required Guid EventId { get; init; }

    public required string GatewayId { get; init; }

    public required string AssetClass { get; init; }

    public required string FromModelName { get; init; }

    public required string FromModelVersion { get; init; }

    /// <summary>SHA-256 package digest of the version rolled back from, lower-case hex.</summary>
    public required string FromModelDigest { get; init; }

    public required string ToModelName { get; init; }

    public required string ToModelVersion { get; init; }

    public required string ToModelDigest { get; init; }

    /// <summary>Which threshold was passed, e.g. <c>error_rate 0.6 &gt; 0.2 over the last 50 rows</c>.</summary>
    public required string Reason { get; init; }

    public required int WindowRows { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
