using System.Text.Json;
using PdM.Edge.Ingestion.Model;

namespace PdM.Edge.Ingestion.Json;

/// <summary>
/// Resolves a device name (a JSON property name or a topic segment) to an asset of the model.
/// </summary>
internal delegate AssetEntry? DeviceNameResolver(ReadOnlySpan<char> deviceName);

/// <summary>
/// The key-value formats of other platforms: a ThingsBoard device or Azure IoT Hub body (<c>{"k":v}</c>,
/// <c>{"ts":ms,"values":{..}}</c> or an array of those) and a ThingsBoard gateway document (the same per device name).
/// Returns <see cref="RejectReason.None"/> with the readings appended to the scope, or the reason that rejects the
/// whole message.
/// </summary>
internal static class KeyValueJsonDecoder
{
    /// <summary>ThingsBoard device / Azure IoT Hub body: <c>{"k":v}</c>, <c>{"ts":ms,"values":{..}}</c> or an array of those.</summary>
    public static RejectReason DecodeDocument(ref Utf8JsonReader reader, AssetEntry asset, MessageScope scope, long receivedMs, int maxDepth, out string detail)
    {
        detail = string.Empty;
        if (!reader.Read())
        {
            detail = "empty payload";
            return RejectReason.Malformed;
        }

        var reason = ReadDeviceTelemetry(ref reader, asset, scope, receivedMs, maxDepth, "payload is not a JSON object or array", out detail);
        return reason != RejectReason.None ? reason : JsonDecoding.EndOfDocument(ref reader, out detail);
    }

    /// <summary>ThingsBoard gateway: <c>{"Device A":[{"ts":..,"values":{..}}], ...}</c>. An unknown device rejects only its own part.</summary>
    public static RejectReason DecodeGateway(ref Utf8JsonReader reader, DeviceNameResolver resolve, MessageScope scope, long receivedMs, int maxDepth, out string detail)
    {
        detail = string.Empty;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            detail = "payload is not a JSON object";
            return RejectReason.Malformed;
        }

        Span<char> name = stackalloc char[JsonDecoding.NameBufferChars];
        RejectReason reason;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var length = JsonDecoding.CopyName(ref reader, name);
            var asset = length > 0 ? resolve(name[..length]) : null;
            reader.Read();
            if (asset is null)
            {
                scope.Add(null, null, 0, double.NaN, ReadingTraits.None, RejectReason.UnknownAsset, "gateway device maps to no asset");
                reason = JsonDecoding.Skip(ref reader, maxDepth, out detail);
            }
            else
            {
                reason = ReadDeviceTelemetry(ref reader, asset, scope, receivedMs, maxDepth, "a gateway device's telemetry must be an array of {ts, values}", out detail);
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

        return JsonDecoding.EndOfDocument(ref reader, out detail);
    }

    // Reader on the value of one device's telemetry, in either shape: a {ts, values} / flat object, or an array of them.
    private static RejectReason ReadDeviceTelemetry(
        ref Utf8JsonReader reader, AssetEntry asset, MessageScope scope, long receivedMs, int maxDepth, string notObjectOrArray, out string detail)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                return ReadTimestampedValues(ref reader, asset, scope, receivedMs, maxDepth, out detail);
            case JsonTokenType.StartArray:
                return ReadTimestampedArray(ref reader, asset, scope, receivedMs, maxDepth, out detail);
            default:
                detail = notObjectOrArray;
                return RejectReason.Malformed;
        }
    }

    private static RejectReason ReadTimestampedArray(ref Utf8JsonReader reader, AssetEntry asset, MessageScope scope, long receivedMs, int maxDepth, out string detail)
    {
        detail = string.Empty;
        if (reader.CurrentDepth >= maxDepth)
        {
            return JsonDecoding.TooDeep(out detail);
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

        return reader.TokenType == JsonTokenType.EndArray ? RejectReason.None : JsonDecoding.Unterminated(out detail);
    }

    // Reader on StartObject. {"ts":ms,"values":{..}} when a "values" object is present, else a flat {"k":v} taken at receive time.
    private static RejectReason ReadTimestampedValues(ref Utf8JsonReader reader, AssetEntry asset, MessageScope scope, long receivedMs, int maxDepth, out string detail)
    {
        detail = string.Empty;
        if (reader.CurrentDepth >= maxDepth)
        {
            return JsonDecoding.TooDeep(out detail);
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
                    return JsonDecoding.Duplicate("values", out detail);
                }

                hasValues = true;
                valuesAt = reader;
            }
            else if (isTs)
            {
                if (hasTs)
                {
                    return JsonDecoding.Duplicate("ts", out detail);
                }

                hasTs = true;
                tsValid = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out ts);
            }

            var reason = JsonDecoding.Skip(ref reader, maxDepth, out detail);
            if (reason != RejectReason.None)
            {
                return reason;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            return JsonDecoding.Unterminated(out detail);
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
            var reason = JsonDecoding.ReadReadingsObject(ref copy, asset, scope, allowBooleans: true, maxDepth, out detail);
            if (reason != RejectReason.None)
            {
                return reason;
            }

            scope.SetTime(start, hasTs ? ts : receivedMs, hasTs ? ReadingTraits.None : ReadingTraits.TimeFromReceipt);
            return RejectReason.None;
        }

        var flat = objectAt;
        var flatReason = JsonDecoding.ReadReadingsObject(ref flat, asset, scope, allowBooleans: true, maxDepth, out detail);
        if (flatReason == RejectReason.None)
        {
            scope.SetTime(start, receivedMs, ReadingTraits.TimeFromReceipt);
        }

        return flatReason;
    }
}
