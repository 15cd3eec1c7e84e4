using System.Buffers;
using System.Text.Json;

namespace PdM.Edge.Ingestion.Sparkplug;

/// <summary>A message the host publishes about itself: topic, JSON payload, QoS 1, retained.</summary>
public sealed record SparkplugStateMessage(string Topic, byte[] Payload, int QualityOfService, bool Retain);

/// <summary>
/// Sparkplug 3.0 host application STATE (<c>spBv1.0/STATE/{host_id}</c>, JSON, QoS 1, retained). Register
/// <see cref="Will"/> as the MQTT Will when connecting, subscribe, then publish <see cref="Online"/> with the
/// same timestamp: edge nodes compare timestamps to tell a stale retained OFFLINE from the current one.
/// </summary>
public static class SparkplugHostState
{
    public const int QualityOfService = 1;
    public const bool Retain = true;

    public static string Topic(string hostId)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostId);
        return $"{SparkplugTopic.Namespace}/STATE/{hostId}";
    }

    public static SparkplugStateMessage Online(string hostId, long timestampUnixMs) =>
        new(Topic(hostId), Payload(online: true, timestampUnixMs), QualityOfService, Retain);

    public static SparkplugStateMessage Will(string hostId, long timestampUnixMs) =>
        new(Topic(hostId), Payload(online: false, timestampUnixMs), QualityOfService, Retain);

    /// <summary><c>{"online":true|false,"timestamp":ms}</c>.</summary>
    public static byte[] Payload(bool online, long timestampUnixMs)
    {
        var buffer = new ArrayBufferWriter<byte>(48);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("online"u8, online);
            writer.WriteNumber("timestamp"u8, timestampUnixMs);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a STATE payload (another host's, or our own retained will to republish over). False when it is not one.</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out bool online, out long timestampUnixMs)
    {
        online = false;
        timestampUnixMs = 0;
        bool hasOnline = false, hasTimestamp = false;
        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 2 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("online"u8))
                {
                    reader.Read();
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                    {
                        return false;
                    }

                    online = reader.TokenType == JsonTokenType.True;
                    hasOnline = true;
                }
                else if (reader.ValueTextEquals("timestamp"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out timestampUnixMs))
                    {
                        return false;
                    }

                    hasTimestamp = true;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            return hasOnline && hasTimestamp && reader.TokenType == JsonTokenType.EndObject && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
