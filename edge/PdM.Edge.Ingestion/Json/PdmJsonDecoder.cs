using System.Text.Json;
using PdM.Edge.Ingestion.Model;

namespace PdM.Edge.Ingestion.Json;

/// <summary>
/// PdM JSON, the platform's own format: one reading set (<c>deviceTime</c> + <c>readings</c>) or a <c>batch</c> of them,
/// with a required <c>schemaVersion</c>. Returns <see cref="RejectReason.None"/> with the readings appended to the
/// scope, or the reason that rejects the whole message.
/// </summary>
internal static class PdmJsonDecoder
{
    /// <summary>PdM JSON: <c>{"schemaVersion":1,"asset":..,"deviceTime":..,"readings":{..}}</c> or with <c>"batch":[{deviceTime,readings}]</c>.</summary>
    public static RejectReason Decode(ref Utf8JsonReader reader, AssetEntry topicAsset, MessageScope scope, long receivedMs, int maxDepth, out string detail)
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
                    return JsonDecoding.Duplicate("schemaVersion", out detail);
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
                    return JsonDecoding.Duplicate("asset", out detail);
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
                reason = ReadDeviceTime(ref reader, ref timeSeen, out deviceTime, out detail);
                if (reason != RejectReason.None)
                {
                    return reason;
                }
            }
            else if (reader.ValueTextEquals("readings"u8))
            {
                if (readingsSeen)
                {
                    return JsonDecoding.Duplicate("readings", out detail);
                }

                readingsSeen = true;
                reader.Read();
                if (versionSeen)
                {
                    readingsStart = scope.Count;
                    reason = JsonDecoding.ReadReadingsObject(ref reader, topicAsset, scope, allowBooleans: false, maxDepth, out detail);
                }
                else
                {
                    // The schema version may come later; until it is known the content is not interpreted, only checked.
                    readingsDeferred = true;
                    readingsAt = reader;
                    reason = JsonDecoding.Skip(ref reader, maxDepth, out detail);
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
                    return JsonDecoding.Duplicate("batch", out detail);
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
                    reason = JsonDecoding.Skip(ref reader, maxDepth, out detail);
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
                reason = JsonDecoding.Skip(ref reader, maxDepth, out detail);
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
                reason = JsonDecoding.ReadReadingsObject(ref copy, topicAsset, scope, allowBooleans: false, maxDepth, out detail);
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

        return JsonDecoding.EndOfDocument(ref reader, out detail);
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
            return JsonDecoding.TooDeep(out detail);
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
                return JsonDecoding.TooDeep(out detail);
            }

            bool timeSeen = false, readingsSeen = false;
            long time = 0;
            var start = scope.Count;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                RejectReason reason;
                if (reader.ValueTextEquals("deviceTime"u8))
                {
                    reason = ReadDeviceTime(ref reader, ref timeSeen, out time, out detail);
                }
                else if (reader.ValueTextEquals("readings"u8))
                {
                    if (readingsSeen)
                    {
                        return JsonDecoding.Duplicate("readings", out detail);
                    }

                    readingsSeen = true;
                    reader.Read();
                    reason = JsonDecoding.ReadReadingsObject(ref reader, asset, scope, allowBooleans: false, maxDepth, out detail);
                }
                else
                {
                    reader.Read();
                    reason = JsonDecoding.Skip(ref reader, maxDepth, out detail);
                }

                if (reason != RejectReason.None)
                {
                    return reason;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject)
            {
                return JsonDecoding.Unterminated(out detail);
            }

            if (!timeSeen || !readingsSeen)
            {
                detail = "every batch element needs deviceTime and readings";
                return RejectReason.Malformed;
            }

            scope.SetTime(start, time, ReadingTraits.None);
        }

        return reader.TokenType == JsonTokenType.EndArray ? RejectReason.None : JsonDecoding.Unterminated(out detail);
    }

    // Reader on the deviceTime property name: the one rule for a reading set's time, at the top level and in a batch element.
    private static RejectReason ReadDeviceTime(ref Utf8JsonReader reader, ref bool seen, out long unixMs, out string detail)
    {
        unixMs = 0;
        if (seen)
        {
            return JsonDecoding.Duplicate("deviceTime", out detail);
        }

        seen = true;
        reader.Read();
        if (!JsonDecoding.TryReadTimestamp(ref reader, out unixMs))
        {
            detail = "deviceTime must be an ISO 8601 timestamp with a UTC offset";
            return RejectReason.Malformed;
        }

        detail = string.Empty;
        return RejectReason.None;
    }
}
