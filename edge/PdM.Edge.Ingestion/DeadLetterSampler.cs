using System.Buffers;
using System.Text;
using System.Text.Json;

namespace PdM.Edge.Ingestion;

/// <summary>A dead-letter document to publish: <c>{"reason","detail","topic","receivedAt","payloadUtf8"|"payloadBase64","payloadBytes"}</c>.</summary>
public sealed record DeadLetterSample(string Topic, RejectReason Reason, ReadOnlyMemory<byte> Payload);

/// <summary>
/// Builds dead-letter samples, at most N per reason per second, so a flood of bad messages costs a counter
/// increment each and never floods the dead-letter topic or the broker behind it.
/// </summary>
internal sealed class DeadLetterSampler
{
    private readonly string _deadLetterTopic;
    private readonly int _perSecond;
    private readonly int _excerptBytes;
    private readonly TimeProvider _time;
    private readonly long[] _windowSecond = new long[RejectReasons.Count];
    private readonly int[] _windowCount = new int[RejectReasons.Count];

    public DeadLetterSampler(string deadLetterTopic, int perSecond, int excerptBytes, TimeProvider time)
    {
        _deadLetterTopic = deadLetterTopic;
        _perSecond = perSecond;
        _excerptBytes = excerptBytes;
        _time = time;
        Array.Fill(_windowSecond, long.MinValue);
    }

    public bool TryTake(RejectReason reason)
    {
        var index = (int)reason;
        var second = _time.GetUtcNow().ToUnixTimeSeconds();
        if (_windowSecond[index] != second)
        {
            _windowSecond[index] = second;
            _windowCount[index] = 0;
        }

        if (_windowCount[index] >= _perSecond)
        {
            return false;
        }

        _windowCount[index]++;
        return true;
    }

    public DeadLetterSample Build(in Rejection rejection, DateTimeOffset receivedAt, in ReadOnlySequence<byte> payload)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + (_excerptBytes * 2));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("reason"u8, rejection.Code);
            writer.WriteString("detail"u8, rejection.Detail);
            writer.WriteString("topic"u8, rejection.Topic);
            writer.WriteString("receivedAt"u8, receivedAt.ToUniversalTime());
            writer.WriteBoolean("wholeMessage"u8, rejection.WholeMessage);
            if (rejection.AssetId is not null)
            {
                writer.WriteString("asset"u8, rejection.AssetId);
            }

            if (rejection.SensorId is not null)
            {
                writer.WriteString("sensor"u8, rejection.SensorId);
            }

            writer.WriteNumber("payloadBytes"u8, payload.Length);
            var excerptLength = (int)Math.Min(payload.Length, _excerptBytes);
            var excerpt = payload.Slice(0, excerptLength).ToArray();
            if (IsCleanUtf8(excerpt, out var text))
            {
                writer.WriteString("payloadUtf8"u8, text);
            }
            else
            {
                writer.WriteBase64String("payloadBase64"u8, excerpt);
            }

            writer.WriteBoolean("truncated"u8, excerptLength < payload.Length);
            writer.WriteEndObject();
        }

        return new DeadLetterSample(_deadLetterTopic, rejection.Reason, buffer.WrittenMemory);
    }

    // A cut through a multi-byte character or binary data (protobuf) goes out as base64 so the sample stays exact.
    private static bool IsCleanUtf8(byte[] bytes, out string text)
    {
        text = string.Empty;
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return false;
        }

        text = Encoding.UTF8.GetString(bytes);
        foreach (var c in text)
        {
            if (char.IsControl(c) && c is not '\n' and not '\r' and not '\t')
            {
                return false;
            }
        }

        return true;
    }
}
