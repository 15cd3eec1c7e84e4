namespace PdM.Edge.Ingestion.Sparkplug;

public enum SparkplugMessageType
{
    Unknown = 0,
    NBirth,
    NDeath,
    NData,
    NCmd,
    DBirth,
    DDeath,
    DData,
    DCmd,
    State,
}

/// <summary>A parsed Sparkplug B topic: ranges into the topic string, so parsing allocates nothing.</summary>
public readonly record struct SparkplugTopic(SparkplugMessageType Type, Range Group, Range EdgeNode, Range Device, Range HostId)
{
    public const string Namespace = "spBv1.0";

    public bool IsDeviceMessage => Type is SparkplugMessageType.DBirth or SparkplugMessageType.DDeath or SparkplugMessageType.DData or SparkplugMessageType.DCmd;

    /// <summary>
    /// <c>spBv1.0/{group}/{NBIRTH|NDEATH|NDATA|NCMD}/{node}</c>, <c>spBv1.0/{group}/{DBIRTH|DDEATH|DDATA|DCMD}/{node}/{device}</c>
    /// or <c>spBv1.0/STATE/{host}</c>.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> topic, out SparkplugTopic parsed)
    {
        parsed = default;
        Span<Range> parts = stackalloc Range[6];
        var count = topic.Split(parts, '/');
        if (count < 3 || !topic[parts[0]].SequenceEqual(Namespace))
        {
            return false;
        }

        for (var i = 1; i < count; i++)
        {
            if (topic[parts[i]].IsEmpty)
            {
                return false;
            }
        }

        if (topic[parts[1]].SequenceEqual("STATE"))
        {
            if (count != 3)
            {
                return false;
            }

            parsed = new SparkplugTopic(SparkplugMessageType.State, default, default, default, parts[2]);
            return true;
        }

        var typeText = topic[parts[2]];
        var type = typeText switch
        {
            "NBIRTH" => SparkplugMessageType.NBirth,
            "NDEATH" => SparkplugMessageType.NDeath,
            "NDATA" => SparkplugMessageType.NData,
            "NCMD" => SparkplugMessageType.NCmd,
            "DBIRTH" => SparkplugMessageType.DBirth,
            "DDEATH" => SparkplugMessageType.DDeath,
            "DDATA" => SparkplugMessageType.DData,
            "DCMD" => SparkplugMessageType.DCmd,
            _ => SparkplugMessageType.Unknown,
        };
        if (type == SparkplugMessageType.Unknown)
        {
            return false;
        }

        var isDevice = type is SparkplugMessageType.DBirth or SparkplugMessageType.DDeath or SparkplugMessageType.DData or SparkplugMessageType.DCmd;
        if (count != (isDevice ? 5 : 4))
        {
            return false;
        }

        parsed = new SparkplugTopic(type, parts[1], parts[3], isDevice ? parts[4] : default, default);
        return true;
    }

    public static string NodeCommandTopic(string groupId, string edgeNodeId) => $"{Namespace}/{groupId}/NCMD/{edgeNodeId}";
}
