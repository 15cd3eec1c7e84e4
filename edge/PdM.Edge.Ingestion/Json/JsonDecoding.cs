using System.Text.Json;
using PdM.Edge.Ingestion.Model;

namespace PdM.Edge.Ingestion.Json;

/// <summary>
/// What every JSON format's decoder shares, straight off <see cref="Utf8JsonReader"/> (no DTOs, no strings per
/// reading): reader options, a readings object (<c>{"sensor":value,...}</c>), one value, timestamps, skipping, and the
/// rejection details. Each returns <see cref="RejectReason.None"/> or the reason that rejects the whole message.
/// Nesting is checked on every container token against the configured limit, so too_deep is told apart from malformed;
/// the reader's own MaxDepth sits just above it as a backstop.
/// </summary>
internal static class JsonDecoding
{
    public const int NameBufferChars = AssetModel.MaxIdLength * 6;

    public static JsonReaderOptions ReaderOptions(int maxDepth) => new()
    {
        MaxDepth = maxDepth + 2,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    // Reader on StartObject of {"sensor":value,...}. Appends one entry per key (time set by the caller).
    public static RejectReason ReadReadingsObject(ref Utf8JsonReader reader, AssetEntry asset, MessageScope scope, bool allowBooleans, int maxDepth, out string detail)
    {
        detail = string.Empty;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            detail = "readings must be an object";
            return RejectReason.Malformed;
        }

        if (reader.CurrentDepth >= maxDepth)
        {
            return TooDeep(out detail);
        }

        scope.BeginSnapshot();
        Span<char> name = stackalloc char[NameBufferChars];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var length = CopyName(ref reader, name);
            SensorEntry? sensor = null;
            if (length > 0 && asset.TryGetSensor(name[..length], out sensor) && !scope.MarkSeen(sensor))
            {
                return Duplicate("sensor", out detail);
            }

            reader.Read();
            var reason = ReadValue(ref reader, allowBooleans, maxDepth, out var value, out var entryReason, out detail);
            if (reason != RejectReason.None)
            {
                return reason;
            }

            // For a key the model does not know, unknown_sensor is the useful answer whatever the value's type.
            if (sensor is null)
            {
                entryReason = RejectReason.None;
            }

            scope.Add(asset, sensor, 0, value, ReadingTraits.None, entryReason, entryReason == RejectReason.None ? null : detail);
            detail = string.Empty;
        }

        return reader.TokenType == JsonTokenType.EndObject ? RejectReason.None : Unterminated(out detail);
    }

    // Reader on a value token. Returns a message-level reason (too deep); a value of the wrong type is an entry-level reason.
    public static RejectReason ReadValue(ref Utf8JsonReader reader, bool allowBooleans, int maxDepth, out double value, out RejectReason entryReason, out string detail)
    {
        detail = string.Empty;
        entryReason = RejectReason.None;
        value = double.NaN;
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                if (!reader.TryGetDouble(out value))
                {
                    // Only a magnitude beyond double's range fails here (1e400): an infinity, rejected as not_finite.
                    var first = reader.HasValueSequence ? reader.ValueSequence.FirstSpan : reader.ValueSpan;
                    value = first.Length > 0 && first[0] == (byte)'-' ? double.NegativeInfinity : double.PositiveInfinity;
                }

                return RejectReason.None;
            case JsonTokenType.String:
                // JSON has no NaN/Infinity literal; serializers with named float literals write them as strings.
                if (reader.ValueTextEquals("NaN"u8))
                {
                    value = double.NaN;
                }
                else if (reader.ValueTextEquals("Infinity"u8) || reader.ValueTextEquals("+Infinity"u8))
                {
                    value = double.PositiveInfinity;
                }
                else if (reader.ValueTextEquals("-Infinity"u8))
                {
                    value = double.NegativeInfinity;
                }
                else
                {
                    entryReason = RejectReason.Malformed;
                    detail = "reading value is a string, not a number";
                }

                return RejectReason.None;
            case JsonTokenType.True when allowBooleans:
                value = 1;
                return RejectReason.None;
            case JsonTokenType.False when allowBooleans:
                value = 0;
                return RejectReason.None;
            case JsonTokenType.StartObject:
            case JsonTokenType.StartArray:
                entryReason = RejectReason.Malformed;
                var reason = Skip(ref reader, maxDepth, out detail);
                detail = reason == RejectReason.None ? "reading value is an object or array, not a number" : detail;
                return reason;
            default:
                entryReason = RejectReason.Malformed;
                detail = "reading value is not a number";
                return RejectReason.None;
        }
    }

    // Reader on a value token; leaves it on the value's last token. Checks nesting on every container.
    public static RejectReason Skip(ref Utf8JsonReader reader, int maxDepth, out string detail)
    {
        detail = string.Empty;
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return RejectReason.None;
        }

        var depth = reader.CurrentDepth;
        if (depth >= maxDepth)
        {
            return TooDeep(out detail);
        }

        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray when reader.CurrentDepth >= maxDepth:
                    return TooDeep(out detail);
                case JsonTokenType.EndObject or JsonTokenType.EndArray when reader.CurrentDepth == depth:
                    return RejectReason.None;
                default:
                    break;
            }
        }

        return Unterminated(out detail);
    }

    public static RejectReason EndOfDocument(ref Utf8JsonReader reader, out string detail)
    {
        // With isFinalBlock the reader throws on trailing garbage; a second value would need AllowMultipleValues.
        detail = string.Empty;
        if (reader.Read())
        {
            detail = "content after the JSON document";
            return RejectReason.Malformed;
        }

        return RejectReason.None;
    }

    // Copies a property name (unescaped) into the buffer; 0 when it is empty or longer than any id can be.
    public static int CopyName(ref Utf8JsonReader reader, scoped Span<char> buffer)
    {
        var byteLength = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (byteLength == 0 || byteLength > buffer.Length)
        {
            return 0;
        }

        var length = reader.CopyString(buffer);
        return length <= AssetModel.MaxIdLength ? length : 0;
    }

    public static bool TryReadTimestamp(ref Utf8JsonReader reader, out long unixMs)
    {
        unixMs = 0;
        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        var byteLength = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (byteLength is < 11 or > 64)
        {
            return false;
        }

        Span<char> text = stackalloc char[64];
        var length = reader.CopyString(text);
        // Without an offset the reader would assume the gateway's local zone: ambiguous, so refused.
        var last = text[length - 1];
        var hasOffset = last is 'Z' or 'z' || (length > 6 && text[length - 6] is '+' or '-');
        if (!hasOffset || !reader.TryGetDateTimeOffset(out var value))
        {
            return false;
        }

        unixMs = value.ToUnixTimeMilliseconds();
        return true;
    }

    public static RejectReason Duplicate(string key, out string detail)
    {
        detail = key switch
        {
            "schemaVersion" => "duplicate key: schemaVersion",
            "asset" => "duplicate key: asset",
            "deviceTime" => "duplicate key: deviceTime",
            "readings" => "duplicate key: readings",
            "batch" => "duplicate key: batch",
            "values" => "duplicate key: values",
            "ts" => "duplicate key: ts",
            _ => "duplicate sensor key in one snapshot",
        };
        return RejectReason.Malformed;
    }

    public static RejectReason TooDeep(out string detail)
    {
        detail = "JSON nesting deeper than the configured limit";
        return RejectReason.TooDeep;
    }

    public static RejectReason Unterminated(out string detail)
    {
        detail = "truncated JSON";
        return RejectReason.Malformed;
    }
}
