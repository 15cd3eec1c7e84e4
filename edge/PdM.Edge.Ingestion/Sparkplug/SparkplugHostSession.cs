using System.Buffers;
using PdM.Contracts.Edge;
using PdM.Edge.Ingestion.Model;

namespace PdM.Edge.Ingestion.Sparkplug;

/// <summary>
/// The host-application side of Sparkplug B 3.0 for every edge node seen: births build per-node and per-device
/// alias tables and record bdSeq; DATA is resolved by alias or name; one seq (0–255, wrapping) is checked across
/// a node's and its devices' messages; a gap, an unknown alias or data before birth issues an NCMD
/// <c>Node Control/Rebirth</c> and refuses that node's data until its next NBIRTH; NDEATH (matching bdSeq) and DDEATH
/// report the mapped assets offline. Not thread-safe: one instance per receive pipeline (MQTT delivers in order).
/// </summary>
public sealed class SparkplugHostSession
{
    private readonly AssetModel _model;
    private readonly SparkplugOptions _options;
    private readonly IngestionTelemetry _telemetry;
    private readonly long _rebirthRetryMs;
    private readonly Dictionary<string, Dictionary<string, SparkplugNodeState>> _groups = new(StringComparer.Ordinal);
    private readonly SparkplugMetricBinder _metrics;
    private int _nodeCount;

    internal SparkplugHostSession(AssetModel model, SparkplugOptions options, IngestionTelemetry telemetry)
    {
        _model = model;
        _options = options;
        _telemetry = telemetry;
        _rebirthRetryMs = (long)options.RebirthRetryInterval.TotalMilliseconds;
        _metrics = new SparkplugMetricBinder(model, options);
    }

    public string HostId => _options.HostId;

    /// <summary>The session state of one edge node, or null when nothing was ever received from it.</summary>
    public SparkplugNodeStatus? GetNodeStatus(string groupId, string edgeNodeId)
    {
        if (!_groups.TryGetValue(groupId, out var nodes) || !nodes.TryGetValue(edgeNodeId, out var node))
        {
            return null;
        }

        var born = new List<string>();
        foreach (var device in node.Devices.Values)
        {
            if (device.Born)
            {
                born.Add(device.DeviceId);
            }
        }

        return new SparkplugNodeStatus(node.GroupId, node.EdgeNodeId, node.Phase, node.HasBdSeq ? node.BdSeq : null, node.LastSeq, born);
    }

    internal RejectReason Handle(string topicText, in SparkplugTopic topic, in ReadOnlySequence<byte> bytes, int maxDepth, DateTimeOffset receivedAt, MessageScope scope, IIngestSink sink, out string detail, out string? assetId)
    {
        detail = string.Empty;
        assetId = null;
        if (topic.Type is SparkplugMessageType.NCmd or SparkplugMessageType.DCmd)
        {
            // Commands go to nodes; a host subscribed to spBv1.0/# sees them (its own included). Nothing to ingest.
            return RejectReason.None;
        }

        var node = GetOrCreateNode(topicText.AsSpan(topic.Group), topicText.AsSpan(topic.EdgeNode));
        if (node is null)
        {
            detail = "edge node limit reached; message from a new node refused";
            return RejectReason.NotBorn;
        }

        var receivedMs = receivedAt.ToUnixTimeMilliseconds();
        var decoded = SparkplugCodec.TryDecode(bytes, maxDepth, out var payload);
        if (decoded != RejectReason.None || payload is null)
        {
            detail = decoded == RejectReason.TooDeep ? "protobuf nesting deeper than the configured limit" : "not a Sparkplug B protobuf payload";
            if (topic.Type is not (SparkplugMessageType.NDeath or SparkplugMessageType.DDeath))
            {
                // An unreadable BIRTH or DATA leaves seq and aliases unverifiable: start over from a fresh birth.
                RequireRebirth(node, receivedMs, sink, RejectReason.Malformed);
            }

            return decoded == RejectReason.None ? RejectReason.Malformed : decoded;
        }

        var context = new SparkplugMessage(payload, receivedMs, receivedAt, scope, sink);
        switch (topic.Type)
        {
            case SparkplugMessageType.NBirth:
                return NodeBirth(node, context, out detail, out assetId);
            case SparkplugMessageType.NDeath:
                return NodeDeath(node, context, out detail, out assetId);
            case SparkplugMessageType.NData:
                return Data(node, isDevice: false, default, context, out detail, out assetId);
            case SparkplugMessageType.DBirth:
                return DeviceBirth(node, topicText.AsSpan(topic.Device), context, out detail, out assetId);
            case SparkplugMessageType.DDeath:
                return DeviceDeath(node, topicText.AsSpan(topic.Device), context, out detail, out assetId);
            case SparkplugMessageType.DData:
                return Data(node, isDevice: true, topicText.AsSpan(topic.Device), context, out detail, out assetId);
            default:
                detail = "not a Sparkplug edge message";
                return RejectReason.UnknownTopic;
        }
    }

    private RejectReason NodeBirth(SparkplugNodeState node, in SparkplugMessage context, out string detail, out string? assetId)
    {
        detail = string.Empty;
        var payload = context.Payload;
        node.Metrics.Clear();
        foreach (var device in node.Devices.Values)
        {
            // A new node session invalidates every device session behind it; each must DBIRTH again.
            device.Born = false;
            device.Metrics.Clear();
        }

        node.Asset = _metrics.ResolveAsset(node.GroupId, node.EdgeNodeId, null, out var mapping);
        assetId = node.Asset?.Id;
        if (!SparkplugCodec.TryGetBdSeq(payload, out var bdSeq))
        {
            node.Phase = SparkplugNodePhase.Offline;
            node.HasBdSeq = false;
            detail = "NBIRTH without an integer bdSeq metric";
            return RejectReason.Malformed;
        }

        if (payload.HasSeq && payload.Seq > 255)
        {
            node.Phase = SparkplugNodePhase.Offline;
            node.HasBdSeq = false;
            detail = "seq outside 0..255";
            return RejectReason.Malformed;
        }

        var reason = _metrics.BuildTable(node.Metrics, payload, node.Asset, mapping, out detail);
        if (reason != RejectReason.None)
        {
            node.Phase = SparkplugNodePhase.Offline;
            node.HasBdSeq = false;
            return reason;
        }

        node.BdSeq = bdSeq;
        node.HasBdSeq = true;
        node.LastSeq = payload.HasSeq ? (int)payload.Seq : 0;
        node.Phase = SparkplugNodePhase.Online;
        node.RebirthRequested = false;
        _metrics.EmitAll(node.Metrics, node.Asset, context, ReadingTraits.Birth);
        return RejectReason.None;
    }

    private RejectReason DeviceBirth(SparkplugNodeState node, ReadOnlySpan<char> deviceId, in SparkplugMessage context, out string detail, out string? assetId)
    {
        assetId = null;
        var gate = CheckNodeMessage(node, context, out detail);
        if (gate != RejectReason.None)
        {
            return gate;
        }

        var device = GetOrCreateDevice(node, deviceId);
        device.Metrics.Clear();
        device.Born = false;
        device.Asset = _metrics.ResolveAsset(node.GroupId, node.EdgeNodeId, device.DeviceId, out var mapping);
        assetId = device.Asset?.Id;
        var reason = _metrics.BuildTable(device.Metrics, context.Payload, device.Asset, mapping, out detail);
        if (reason != RejectReason.None)
        {
            RequireRebirth(node, context.ReceivedMs, context.Sink, reason);
            return reason;
        }

        device.Born = true;
        if (device.Asset is null)
        {
            detail = "Sparkplug device maps to no asset";
            return RejectReason.UnknownAsset;
        }

        _metrics.EmitAll(device.Metrics, device.Asset, context, ReadingTraits.Birth);
        return RejectReason.None;
    }

    private RejectReason Data(SparkplugNodeState node, bool isDevice, ReadOnlySpan<char> deviceId, in SparkplugMessage context, out string detail, out string? assetId)
    {
        assetId = null;
        var gate = CheckNodeMessage(node, context, out detail);
        if (gate != RejectReason.None)
        {
            return gate;
        }

        MetricTable table;
        AssetEntry? asset;
        if (!isDevice)
        {
            table = node.Metrics;
            asset = node.Asset;
        }
        else
        {
            if (!node.Devices.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(deviceId, out var device) || !device.Born)
            {
                detail = "DDATA before the device's DBIRTH";
                RequireRebirth(node, context.ReceivedMs, context.Sink, RejectReason.NotBorn);
                return RejectReason.NotBorn;
            }

            table = device.Metrics;
            asset = device.Asset;
        }

        assetId = asset?.Id;
        foreach (var metric in context.Payload.Metrics)
        {
            MetricBinding? binding = null;
            var found = metric.HasAlias ? table.ByAlias.TryGetValue(metric.Alias, out binding) : metric.HasName && table.ByName.TryGetValue(metric.Name, out binding);
            if (!found || binding is null)
            {
                detail = metric.HasAlias ? "metric alias not declared in the birth" : "metric name not declared in the birth";
                RequireRebirth(node, context.ReceivedMs, context.Sink, RejectReason.UnknownAlias);
                return RejectReason.UnknownAlias;
            }

            _metrics.Emit(metric, binding, asset, context, ReadingTraits.None);
        }

        if (isDevice && asset is null)
        {
            detail = "Sparkplug device maps to no asset";
            return RejectReason.UnknownAsset;
        }

        return RejectReason.None;
    }

    private RejectReason NodeDeath(SparkplugNodeState node, in SparkplugMessage context, out string detail, out string? assetId)
    {
        detail = string.Empty;
        assetId = node.Asset?.Id;
        if (!SparkplugCodec.TryGetBdSeq(context.Payload, out var bdSeq))
        {
            detail = "NDEATH without an integer bdSeq metric";
            return RejectReason.Malformed;
        }

        if (!node.HasBdSeq || node.BdSeq != bdSeq)
        {
            // The broker delivers a will late when the node reconnected first: that old session's death is not news.
            detail = "NDEATH bdSeq does not match the current NBIRTH";
            return RejectReason.StaleDeath;
        }

        node.Phase = SparkplugNodePhase.Offline;
        node.HasBdSeq = false;
        if (node.Asset is not null)
        {
            Offline(node.Asset, AssetOfflineReason.EdgeNodeDeath, node, null, bdSeq, context);
        }

        foreach (var device in node.Devices.Values)
        {
            if (device.Born && device.Asset is not null)
            {
                Offline(device.Asset, AssetOfflineReason.EdgeNodeDeath, node, device.DeviceId, bdSeq, context);
            }

            device.Born = false;
        }

        return RejectReason.None;
    }

    private RejectReason DeviceDeath(SparkplugNodeState node, ReadOnlySpan<char> deviceId, in SparkplugMessage context, out string detail, out string? assetId)
    {
        assetId = null;
        var gate = CheckNodeMessage(node, context, out detail);
        if (gate != RejectReason.None)
        {
            return gate;
        }

        var lookup = node.Devices.GetAlternateLookup<ReadOnlySpan<char>>();
        if (!lookup.TryGetValue(deviceId, out var device) || !device.Born)
        {
            detail = "DDEATH for a device without a current DBIRTH";
            return RejectReason.StaleDeath;
        }

        device.Born = false;
        assetId = device.Asset?.Id;
        if (device.Asset is not null)
        {
            Offline(device.Asset, AssetOfflineReason.DeviceDeath, node, device.DeviceId, null, context);
        }

        return RejectReason.None;
    }

    // Every node-scoped message after NBIRTH: the node must be online and the seq must follow on.
    private RejectReason CheckNodeMessage(SparkplugNodeState node, in SparkplugMessage context, out string detail)
    {
        detail = string.Empty;
        if (node.Phase != SparkplugNodePhase.Online)
        {
            detail = node.Phase == SparkplugNodePhase.AwaitingRebirth ? "data while a rebirth is owed" : "data before NBIRTH";
            RequireRebirth(node, context.ReceivedMs, context.Sink, RejectReason.NotBorn);
            return RejectReason.NotBorn;
        }

        var payload = context.Payload;
        var expected = (node.LastSeq + 1) & 0xFF;
        if (!payload.HasSeq || payload.Seq != (ulong)expected)
        {
            detail = payload.HasSeq ? "seq gap" : "message without seq";
            RequireRebirth(node, context.ReceivedMs, context.Sink, RejectReason.SequenceGap);
            return RejectReason.SequenceGap;
        }

        node.LastSeq = expected;
        return RejectReason.None;
    }

    private void RequireRebirth(SparkplugNodeState node, long receivedMs, IIngestSink sink, RejectReason cause)
    {
        // bdSeq is kept: until a new NBIRTH the session is still that node's, so its NDEATH must still match.
        node.Phase = SparkplugNodePhase.AwaitingRebirth;
        if (node.RebirthRequested && receivedMs - node.LastRebirthMs < _rebirthRetryMs && receivedMs >= node.LastRebirthMs)
        {
            return;
        }

        node.RebirthRequested = true;
        node.LastRebirthMs = receivedMs;
        _telemetry.RebirthRequested();
        sink.OnSparkplugCommand(new SparkplugCommand(
            SparkplugTopic.NodeCommandTopic(node.GroupId, node.EdgeNodeId),
            SparkplugCodec.EncodeRebirthCommand(receivedMs),
            node.GroupId,
            node.EdgeNodeId,
            cause));
    }

    private void Offline(AssetEntry asset, AssetOfflineReason reason, SparkplugNodeState node, string? deviceId, long? bdSeq, in SparkplugMessage context)
    {
        _telemetry.AssetOffline();
        context.Sink.OnAssetOffline(new AssetWentOffline
        {
            EventId = Guid.NewGuid(),
            SiteId = _model.SiteId,
            AssetId = asset.Id,
            Reason = reason,
            GroupId = node.GroupId,
            EdgeNodeId = node.EdgeNodeId,
            DeviceId = deviceId,
            BdSeq = bdSeq,
            OccurredAt = context.ReceivedAt,
        });
    }

    private SparkplugNodeState? GetOrCreateNode(ReadOnlySpan<char> groupId, ReadOnlySpan<char> edgeNodeId)
    {
        var groups = _groups.GetAlternateLookup<ReadOnlySpan<char>>();
        if (groups.TryGetValue(groupId, out var nodes) && nodes.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(edgeNodeId, out var existing))
        {
            return existing;
        }

        if (_nodeCount >= _options.MaxEdgeNodes)
        {
            return null;
        }

        if (nodes is null)
        {
            nodes = new Dictionary<string, SparkplugNodeState>(StringComparer.Ordinal);
            _groups.Add(groupId.ToString(), nodes);
        }

        var node = new SparkplugNodeState(groupId.ToString(), edgeNodeId.ToString());
        nodes.Add(node.EdgeNodeId, node);
        _nodeCount++;
        return node;
    }

    private static SparkplugDeviceState GetOrCreateDevice(SparkplugNodeState node, ReadOnlySpan<char> deviceId)
    {
        var lookup = node.Devices.GetAlternateLookup<ReadOnlySpan<char>>();
        if (!lookup.TryGetValue(deviceId, out var device))
        {
            device = new SparkplugDeviceState(deviceId.ToString());
            node.Devices.Add(device.DeviceId, device);
        }

        return device;
    }
}
