using System.Text.Json;
using PdM.Edge.Ingestion.Model;

namespace PdM.Edge.Ingestion.Json;

/// <summary>
/// Resolves a device name (a JSON property name or a topic segment) to an asset of the model.
/// </summary>
internal delegate AssetEntry? DeviceNameResolver(ReadOnlySpan<char> deviceName);

/// <summary>
/// Decoders for the JSON formats, straight off <see cref="Utf8JsonReader"/> (no DTOs, no strings per reading).
/// Each returns <see cref="RejectReason.None"/> with the readings appended to the scope, or the reason that rejects the whole message.
/// Nesting is checked on every container token against the configured limit, so too_deep is told apart from malformed;
/// the reader's own MaxDepth sits just above it as a backstop.
/// </summary>
internal static class JsonTelemetryDecoder
{
    private const int NameBufferChars = AssetModel.MaxIdLength * 6;

    public static JsonReaderOptions ReaderOptions(int maxDepth) => new()
    {
        MaxDepth = maxDepth + 2,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>PdM JSON: <c>{"schemaVersion":1,"asset":..,"deviceTime":..,"readings":{..}}</c> or with <c>"batch":[{deviceTime,readings}]</c>.</summary>
    public static RejectReason DecodePdm(ref Utf8JsonReader reader, AssetEntry topicAsset, MessageScope scope, long receivedMs, int maxDepth, out string detail)
    {
        detail = string.Empty;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            detail = "payload is not a JSON object";
            return RejectReason.Malformed;
        }

        bool versionSeen = false, assetSeen = false, timeSeen = false, readingsSeen = false, batchSeen = false;
        bool readingsDeferred = false, batchDeferred = false;
        long deviceTime = 0;
        var readingsStart = 0;
        Utf8JsonReader readingsAt = default, batchAt = default;
        RejectReason reason;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("schemaVersion"u8))
            {
                if (versionSeen)
                {
                    return Duplicate("schemaVersion", out detail);
                }

                versionSeen = true;
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number)
                {
                    detail = "schemaVersion must be a number";
                    return RejectReason.Malformed;
                }

                if (!reader.TryGetInt32(out var version) || version != Contracts.Telemetry.TelemetryMessage.CurrentSchemaVersion)
                {
                    detail = "schemaVersion must be 1";
                    return RejectReason.UnsupportedSchemaVersion;
                }
            }
            else if (reader.ValueTextEquals("asset"u8))
            {
                if (assetSeen)
                {
                    // Two "asset" keys: parsers disagree on which wins, the classic way to smuggle a spoofed id.
                    return Duplicate("asset", out detail);
                }

                assetSeen = true;
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    detail = "asset must be a string";
                    return RejectReason.Malformed;
                }

                if (!reader.ValueTextEquals(topicAsset.Id))
                {
                    detail = "payload asset differs from the topic's asset";
                    return RejectReason.AssetMismatch;
                }
            }
            else if (reader.ValueTextEquals("deviceTime"u8))
            {
                if (timeSeen)
                {
                    return Duplicate("deviceTime", out detail);
                }

                timeSeen = true;
                reader.Read();
                if (!TryReadTimestamp(ref reader, out deviceTime))
                {
                    detail = "deviceTime must be an ISO 8601 timestamp with a UTC offset";
                    return RejectReason.Malformed;
                }
            }
            else if (reader.ValueTextEquals("readings"u8))
            {
                if (readingsSeen)
                {
                    return Duplicate("readings", out detail);
                }

                readingsSeen = true;
                reader.Read();
                if (versionSeen)
                {
                    readingsStart = scope.Count;
                    reason = ReadReadingsObject(ref reader, topicAsset, scope, allowBooleans: false, maxDepth, out detail);
                }
                else
                {
                    // The schema version may come later; until it is known the content is not interpreted, only checked.
                    readingsDeferred = true;
                    readingsAt = reader;
                    reason = Skip(ref reader, maxDepth, out detail);
                }

                if (reason != RejectReason.None)
                {
                    return reason;
                }
            }
            else if (reader.ValueTextEquals("batch"u8))
            {
                if (batchSeen)
                {
                    return Duplicate("batch", out detail);
                }

                batchSeen = true;
                reader.Read();
                if (versionSeen)
                {
                    reason = ReadBatch(ref reader, topicAsset, scope, maxDepth, out detail);
                }
                else
                {
                    batchDeferred = true;
                    batchAt = reader;
                    reason = Skip(ref reader, maxDepth, out detail);
                }

                if (reason != RejectReason.None)
                {
                    return reason;
                }
            }
            else
            {
                // Unknown keys are skipped: additive fields within schema version 1 must not break old gateways.
                reader.Read();
                reason = Skip(ref reader, maxDepth, out detail);
                if (reason != RejectReason.None)
                {
                    return reason;
                }
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            detail = "unterminated object";
            return RejectReason.Malformed;
        }

        if (!versionSeen)
        {
            detail = "schemaVersion is missing";
            return RejectReason.UnsupportedSchemaVersion;
        }

        if (readingsSeen == batchSeen)
        {
            detail = readingsSeen ? "both readings and batch present" : "neither readings nor batch present";
            return RejectReason.Malformed;
        }

        if (readingsSeen)
        {
            if (readingsDeferred)
            {
                readingsStart = scope.Count;
                var copy = readingsAt;
                reason = ReadReadingsObject(ref copy, topicAsset, scope, allowBooleans: false, maxDepth, out detail);
                if (reason != RejectReason.None)
                {
                    return reason;
                }
            }

            scope.SetTime(readingsStart, timeSeen ? deviceTime : receivedMs, timeSeen ? ReadingTraits.None : ReadingTraits.TimeFromReceipt);
        }
        else if (batchDeferred)
        {
            var copy = batchAt;
            reason = ReadBatch(ref copy, topicAsset, scope, maxDepth, out detail);
            if (reason != RejectReason.None)
            {
                return reason;
            }
        }

        return EndOfDocument(ref reader, out detail);
    }

    /// <summary>ThingsBoard device / Azure IoT Hub body: <c>{"k":v}</c>, <c>{"ts":ms,"values":{..}}</c> or an array of those.</summary>
    public static RejectReason DecodeKeyValueDocument(ref Utf8JsonReader reader, AssetEntry asset, MessageScope scope, long receivedMs, int maxDepth, out string detail)
    {
        detail = string.Empty;
        if (!reader.Read())
        {
            detail = "empty payload";
            return RejectReason.Malformed;
        }

        RejectReason reason;
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            reason = ReadTimestampedValues(ref reader, asset, scope, receivedMs, maxDepth, out detail);
        }
        else if (reader.TokenType == JsonTokenType.StartArray)
        {
            reason = ReadTimestampedArray(ref reader, asset, scope, receivedMs, maxDepth, out detail);
        }
        else
        {
            detail = "payload is not a JSON object or array";
            return RejectReason.Malformed;
        }

        return reason != RejectReason.None ? reason : EndOfDocument(ref reader, out detail);
    }

    /// <summary>ThingsBoard gateway: <c>{"Device A":[{"ts":..,"values":{..}}], ...}</c>. An unknown device rejects only its own part.</summary>
    public static RejectReason DecodeThingsBoardGateway(ref Utf8JsonReader reader, DeviceNameResolver resolve, MessageScope scope, long receivedMs, int maxDepth, out string detail)
    {
        detail = string.Empty;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            detail = "payload is not a JSON object";
            return RejectReason.Malformed;
        }

        Span<char> name = stackalloc char[NameBufferChars];
        RejectReason reason;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var length = CopyName(ref reader, name);
            var asset = length > 0 ? resolve(name[..length]) : null;
            reader.Read();
            if (asset is null)
            {
                scope.Add(null, null, 0, double.NaN, ReadingTraits.None, RejectReason.UnknownAsset, "gateway device maps to no asset");
                reason = Skip(ref reader, maxDepth, out detail);
            }
            else if (reader.TokenType == JsonTokenType.StartArray)
            {
                reason = ReadTimestampedArray(ref reader, asset, scope, receivedMs, maxDepth, out detail);
            }
            else if (reader.TokenType == JsonTokenType.StartObject)
            {
                reason = ReadTimestampedValues(ref reader, asset, scope, receivedMs, maxDepth, out detail);
            }
            else
            {
                detail = "a gateway device's telemetry must be an array of {ts, values}";
                return RejectReason.Malformed;
            }

            if (reason != RejectReason.None)
            {
                return reason;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            detail = "unterminated object";
            return RejectReason.Malformed;
        }

        return EndOfDocument(ref reader, out detail);
    }

    private static RejectReason ReadTimestampedArray(ref Utf8JsonReader reader, AssetEntry asset, MessageScope scope, long receivedMs, int maxDepth, out string detail)
    {
        detail = string.Empty;
        if (reader.CurrentDepth >= maxDepth)
        {
            return TooDeep(out detail);
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                detail = "array elements must be objects";
                return RejectReason.Malformed;
            }

            var reason = ReadTimestampedValues(ref reader, asset, scope, receivedMs, maxDepth, out detail);
            if (reason != RejectReason.None)
            {
                return reason;
            }
        }

        return reader.TokenType == JsonTokenType.EndArray ? RejectReason.None : Unterminated(out detail);
    }

    // Reader on StartObject. {"ts":ms,"values":{..}} when a "values" object is present, else a flat {"k":v} taken at receive time.
    private static RejectReason ReadTimestampedValues(ref Utf8JsonReader reader, AssetEntry asset, MessageScope scope, long receivedMs, int maxDepth, out string detail)
    {
        detail = string.Empty;
        if (reader.CurrentDepth >= maxDepth)
        {
            return TooDeep(out detail);
        }

        var objectAt = reader;
        Utf8JsonReader valuesAt = default;
        bool hasValues = false, hasTs = false, tsValid = false;
        long ts = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isValues = reader.ValueTextEquals("values"u8);
            var isTs = !isValues && reader.ValueTextEquals("ts"u8);
            reader.Read();
            if (isValues && reader.TokenType == JsonTokenType.StartObject)
            {
                if (hasValues)
                {
                    return Duplicate("values", out detail);
                }

                hasValues = true;
                valuesAt = reader;
            }
            else if (isTs)
            {
                if (hasTs)
                {
                    return Duplicate("ts", out detail);
                }

                hasTs = true;
                tsValid = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out ts);
            }

            var reason = Skip(ref reader, maxDepth, out detail);
            if (reason != RejectReason.None)
            {
                return reason;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            return Unterminated(out detail);
        }

        var start = scope.Count;
        if (hasValues)
        {
            if (hasTs && !tsValid)
            {
                detail = "ts must be an integer of Unix milliseconds";
                return RejectReason.Malformed;
            }

            var copy = valuesAt;
            var reason = ReadReadingsObject(ref copy, asset, scope, allowBooleans: true, maxDepth, out detail);
            if (reason != RejectReason.None)
            {
                return reason;
            }

            scope.SetTime(start, hasTs ? ts : receivedMs, hasTs ? ReadingTraits.None : ReadingTraits.TimeFromReceipt);
            return RejectReason.None;
        }

        var flat = objectAt;
        var flatReason = ReadReadingsObject(ref flat, asset, scope, allowBooleans: true, maxDepth, out detail);
        if (flatReason == RejectReason.None)
        {
            scope.SetTime(start, receivedMs, ReadingTraits.TimeFromReceipt);
        }

        return flatReason;
    }

    // Reader on the batch's StartArray.
    private static RejectReason ReadBatch(ref Utf8JsonReader reader, AssetEntry asset, MessageScope scope, int maxDepth, out string detail)
    {
        detail = string.Empty;
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            detail = "batch must be an array";
            return RejectReason.Malformed;
        }

        if (reader.CurrentDepth >= maxDepth)
        {
            return TooDeep(out detail);
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                detail = "batch elements must be objects";
                return RejectReason.Malformed;
            }

            if (reader.CurrentDepth >= maxDepth)
            {
                return TooDeep(out detail);
            }

            bool timeSeen = false, readingsSeen = false;
            long time = 0;
            var start = scope.Count;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                RejectReason reason;
                if (reader.ValueTextEquals("deviceTime"u8))
                {
                    if (timeSeen)
                    {
                        return Duplicate("deviceTime", out detail);
                    }

                    timeSeen = true;
                    reader.Read();
                    if (!TryReadTimestamp(ref reader, out time))
                    {
                        detail = "deviceTime must be an ISO 8601 timestamp with a UTC offset";
                        return RejectReason.Malformed;
                    }

                    continue;
                }

                if (reader.ValueTextEquals("readings"u8))
                {
                    if (readingsSeen)
                    {
                        return Duplicate("readings", out detail);
                    }

                    readingsSeen = true;
                    reader.Read();
                    reason = ReadReadingsObject(ref reader, asset, scope, allowBooleans: false, maxDepth, out detail);
                }
                else
                {
                    reader.Read();
                    reason = Skip(ref reader, maxDepth, out detail);
                }

                if (reason != RejectReason.None)
                {
                    return reason;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject)
            {
                return Unterminated(out detail);
            }

            if (!timeSeen || !readingsSeen)
            {
                detail = "every batch element needs deviceTime and readings";
                return RejectReason.Malformed;
            }

            scope.SetTime(start, time, ReadingTraits.None);
        }

        return reader.TokenType == JsonTokenType.EndArray ? RejectReason.None : Unterminated(out detail);
    }

    // Reader on StartObject of {"sensor":value,...}. Appends one entry per key (time set by the caller).
    private static RejectReason ReadReadingsObject(ref Utf8JsonReader reader, AssetEntry asset, MessageScope scope, bool allowBooleans, int maxDepth, out string detail)
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
    private static RejectReason ReadValue(ref Utf8JsonReader reader, bool allowBooleans, int maxDepth, out double value, out RejectReason entryReason, out string detail)
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
    private static RejectReason Skip(ref Utf8JsonReader reader, int maxDepth, out string detail)
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

    private static RejectReason EndOfDocument(ref Utf8JsonReader reader, out string detail)
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
    private static int CopyName(ref Utf8JsonReader reader, scoped Span<char> buffer)
    {
        var byteLength = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (byteLength == 0 || byteLength > buffer.Length)
        {
            return 0;
        }

        var length = reader.CopyString(buffer);
        return length <= AssetModel.MaxIdLength ? length : 0;
    }

    private static bool TryReadTimestamp(ref Utf8JsonReader reader, out long unixMs)
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

    private static RejectReason Duplicate(string key, out string detail)
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

    private static RejectReason TooDeep(out string detail)
    {
        detail = "JSON nesting deeper than the configured limit";
        return RejectReason.TooDeep;
    }

    private static RejectReason Unterminated(out string detail)
    {
        detail = "truncated JSON";
        return RejectReason.Malformed;
    }
}
