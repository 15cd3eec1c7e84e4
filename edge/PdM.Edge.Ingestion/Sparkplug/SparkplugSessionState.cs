using PdM.Edge.Ingestion.Model;

namespace PdM.Edge.Ingestion.Sparkplug;

/// <summary>One decoded message on its way through the session.</summary>
internal readonly record struct SparkplugMessage(Payload Payload, long ReceivedMs, DateTimeOffset ReceivedAt, MessageScope Scope, IIngestSink Sink);

/// <summary>A metric as its birth declared it, and the sensor it feeds (null: none).</summary>
internal sealed record MetricBinding(string Name, uint Datatype, bool Control, SensorEntry? Sensor);

/// <summary>A node's or device's metrics by alias and by name, as its last birth declared them.</summary>
internal sealed class MetricTable
{
    public Dictionary<ulong, MetricBinding> ByAlias { get; } = [];

    public Dictionary<string, MetricBinding> ByName { get; } = new(StringComparer.Ordinal);

    public void Clear()
    {
        ByAlias.Clear();
        ByName.Clear();
    }
}

/// <summary>One edge node's session: phase, bdSeq, seq, rebirth requests, its asset, metrics and devices.</summary>
internal sealed class SparkplugNodeState(string groupId, string edgeNodeId)
{
    public string GroupId { get; } = groupId;

    public string EdgeNodeId { get; } = edgeNodeId;

    public SparkplugNodePhase Phase { get; set; }

    public bool HasBdSeq { get; set; }

    public long BdSeq { get; set; }

    public int LastSeq { get; set; }

    public bool RebirthRequested { get; set; }

    public long LastRebirthMs { get; set; }

    public AssetEntry? Asset { get; set; }

    public MetricTable Metrics { get; } = new();

    public Dictionary<string, SparkplugDeviceState> Devices { get; } = new(StringComparer.Ordinal);
}

/// <summary>One device behind an edge node: born or not, its asset and metrics.</summary>
internal sealed class SparkplugDeviceState(string deviceId)
{
    public string DeviceId { get; } = deviceId;

    public bool Born { get; set; }

    public AssetEntry? Asset { get; set; }

    public MetricTable Metrics { get; } = new();
}
