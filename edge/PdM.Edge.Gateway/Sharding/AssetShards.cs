using System.Globalization;

namespace PdM.Edge.Gateway.Sharding;

/// <summary>
/// The site's split into shards, the same on every gateway: an asset's shard is a stable hash of its id (FNV-1a, 32
/// bits, over the id's UTF-16 code units) modulo the shard count, so it never depends on the process, the platform
/// or the order assets appear in.
/// </summary>
public sealed class AssetShards
{
    private readonly int _count;

    public AssetShards(string siteId, ShardingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _count = options.Count;
        Own = options.Index;
        SessionPrefix = string.IsNullOrWhiteSpace(options.SessionPrefix) ? "gw-" + siteId : options.SessionPrefix;
        PresenceFilter = $"pdm-gateways/{siteId}/shards/+";
        PresencePrefix = $"pdm-gateways/{siteId}/shards/";
    }

    public int Count => _count;

    public int Own { get; }

    public string SessionPrefix { get; }

    /// <summary>Every shard's presence topic: retained <c>online {gatewayId}</c>, or <c>offline</c> (the owner's Will).</summary>
    public string PresenceFilter { get; }

    public string PresencePrefix { get; }

    public static int ShardOf(string assetId, int count)
    {
        ArgumentNullException.ThrowIfNull(assetId);
        if (count <= 1)
        {
            return 0;
        }

        var hash = 2166136261u;
        foreach (var c in assetId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)count);
    }

    /// <summary>
    /// Whether a reading of <paramref name="assetId"/> that arrived on the session of <paramref name="sessionShard"/> is
    /// this session's to process: every session receives the whole site, each keeps its own shard's assets.
    /// </summary>
    public bool Accepts(int sessionShard, string assetId) => sessionShard < 0 || ShardOf(assetId, _count) == sessionShard;

    public string SessionClientId(int shard) => string.Create(CultureInfo.InvariantCulture, $"{SessionPrefix}-shard-{shard}");

    public string PresenceTopic(int shard) => string.Create(CultureInfo.InvariantCulture, $"{PresencePrefix}{shard}");

    /// <summary>The shard a presence topic names, or -1.</summary>
    public int ShardOfPresenceTopic(string topic) =>
        topic.StartsWith(PresencePrefix, StringComparison.Ordinal)
        && int.TryParse(topic.AsSpan(PresencePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var shard) && shard < _count
            ? shard
            : -1;

    /// <summary>
    /// The gateway that stands in for dead <paramref name="shard"/>: the first live one after it in shard order. Every
    /// gateway computes the same answer from the same presence view; while views differ, the broker still lets only
    /// one connection hold a session.
    /// </summary>
    public bool IsStandIn(int shard, Func<int, bool> isLive)
    {
        ArgumentNullException.ThrowIfNull(isLive);
        for (var step = 1; step < _count; step++)
        {
            var candidate = (shard + step) % _count;
            if (candidate == Own)
            {
                return true;
            }

            if (isLive(candidate))
            {
                return false;
            }
        }

        return false;
    }
}
