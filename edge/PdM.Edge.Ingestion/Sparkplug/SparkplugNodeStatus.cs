namespace PdM.Edge.Ingestion.Sparkplug;

/// <summary>An NCMD for the caller to publish (QoS 0, not retained), with why it was issued.</summary>
public sealed record SparkplugCommand(string Topic, byte[] Payload, string GroupId, string EdgeNodeId, RejectReason Cause);

public enum SparkplugNodePhase
{
    /// <summary>Never born, or its NDEATH was seen: data is refused (and triggers a rebirth request).</summary>
    Offline = 0,

    /// <summary>Born; seq and aliases are tracked and data is accepted.</summary>
    Online,

    /// <summary>A rebirth was requested (gap, unknown alias, data before birth): data is refused until the next NBIRTH.</summary>
    AwaitingRebirth,
}

/// <summary>A snapshot of one edge node's session state, for diagnostics and tests.</summary>
public sealed record SparkplugNodeStatus(string GroupId, string EdgeNodeId, SparkplugNodePhase Phase, long? BdSeq, int LastSeq, IReadOnlyList<string> BornDevices);
