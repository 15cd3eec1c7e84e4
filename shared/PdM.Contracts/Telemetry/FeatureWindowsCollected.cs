namespace PdM.Contracts.Telemetry;

/// <summary>
/// A batch of closed feature windows a gateway computed, for the cloud feature store. Feature names are sent once
/// per batch (every row of a batch has the same feature spec); each row carries its values in that order, as the
/// float32 the model input tensor holds. Consumers deduplicate on the message id and on <see cref="BatchId"/>.
/// </summary>
public sealed record FeatureWindowsCollected
{
    public required Guid BatchId { get; init; }

    public required string GatewayId { get; init; }

    public required string SiteId { get; init; }

    /// <summary>Name of the feature spec the gateway ran (e.g. the deployed package's name), for people.</summary>
    public required string FeatureSpecName { get; init; }

    /// <summary><c>sha256:</c> + lower-case hex of the spec's canonical JSON: equal digest, equal features.</summary>
    public required string FeatureSpecDigest { get; init; }

    /// <summary>Feature names in the order of every row's <see cref="FeatureWindowRow.Values"/>.</summary>
    public required IReadOnlyList<string> FeatureNames { get; init; }

    public required IReadOnlyList<FeatureWindowRow> Rows { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>One closed window of one asset: [start, end) in Unix milliseconds of device time, and its feature values.</summary>
public sealed record FeatureWindowRow
{
    public required string AssetId { get; init; }

    public required long WindowStartUnixMs { get; init; }

    public required long WindowEndUnixMs { get; init; }

    public required float[] Values { get; init; }
}
