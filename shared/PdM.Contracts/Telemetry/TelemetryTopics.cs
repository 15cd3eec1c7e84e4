namespace PdM.Contracts.Telemetry;

/// <summary>MQTT topic conventions: <c>pdm/{site}/{asset}/telemetry</c> and the per-site dead-letter topic.</summary>
public static class TelemetryTopics
{
    public const string Root = "pdm";
    public const string TelemetrySuffix = "telemetry";
    public const string DeadLetterSegment = "_deadletter";

    public static string Telemetry(string site, string asset) => $"{Root}/{site}/{asset}/{TelemetrySuffix}";

    /// <summary>Subscription filter for every asset of one site.</summary>
    public static string SiteFilter(string site) => $"{Root}/{site}/+/{TelemetrySuffix}";

    public static string DeadLetter(string site) => $"{Root}/{site}/{DeadLetterSegment}";

    /// <summary>Splits a telemetry topic into site and asset without allocating; false when the topic is not one.</summary>
    public static bool TryParse(ReadOnlySpan<char> topic, out Range site, out Range asset)
    {
        site = default;
        asset = default;
        Span<Range> parts = stackalloc Range[5];
        if (topic.Split(parts, '/') != 4)
        {
            return false;
        }

        if (!topic[parts[0]].SequenceEqual(Root) || !topic[parts[3]].SequenceEqual(TelemetrySuffix)
            || topic[parts[1]].IsEmpty || topic[parts[2]].IsEmpty)
        {
            return false;
        }

        site = parts[1];
        asset = parts[2];
        return true;
    }
}
