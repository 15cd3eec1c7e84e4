using System.Buffers;
using System.Text.Json;
using PdM.Contracts.Telemetry;
using PdM.Edge.Ingestion.Json;
using PdM.Edge.Ingestion.Model;
using PdM.Edge.Ingestion.Sparkplug;

namespace PdM.Edge.Ingestion;

/// <summary>
/// The gateway's entry point: one MQTT message in (topic, payload, receive time, client identity), and out to the
/// sink go accepted readings, rejections (counted by reason), rate-limited dead-letter samples, Sparkplug NCMDs and
/// asset-offline events. Every message is accounted for exactly once by the returned <see cref="IngestResult"/>.
/// Bad input never throws. Not thread-safe: one instance per receive pipeline (Sparkplug state is ordered by nature).
/// </summary>
public sealed class TelemetryIngestor
{
    private const string ThingsBoardDeviceTopic = "v1/devices/me/telemetry";
    private const string ThingsBoardGatewayTopic = "v1/gateway/telemetry";

    private readonly IngestionOptions _options;
    private readonly IngestionTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly MessageScope _scope;
    private readonly DeadLetterSampler _deadLetters;
    private readonly Dictionary<string, AssetEntry> _thingsBoardDevices;
    private readonly Dictionary<string, AssetEntry> _gatewayDevices;
    private readonly Dictionary<string, AssetEntry> _azureDevices;
    private readonly DeviceNameResolver _resolveGatewayDevice;
    private readonly long _futureSkewMs;
    private readonly long _pastAgeMs;
    private readonly long _historicalAgeMs;

    public TelemetryIngestor(AssetModel model, IngestionOptions options, IngestionTelemetry telemetry, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(telemetry);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid ingestion options: " + string.Join(" ", errors), nameof(options));
        }

        Model = model;
        _options = options;
        _telemetry = telemetry;
        _time = timeProvider ?? TimeProvider.System;
        _scope = new MessageScope(model.SensorCount);
        _deadLetters = new DeadLetterSampler(TelemetryTopics.DeadLetter(model.SiteId), options.DeadLetterSamplesPerReasonPerSecond, options.DeadLetterExcerptBytes, _time);
        _thingsBoardDevices = CompileMapping(model, options.Mappings.ThingsBoardDevices, "ThingsBoardDevices");
        _gatewayDevices = CompileMapping(model, options.Mappings.ThingsBoardGatewayDevices, "ThingsBoardGatewayDevices");
        _azureDevices = CompileMapping(model, options.Mappings.AzureIotHubDevices, "AzureIotHubDevices");
        _resolveGatewayDevice = name => Resolve(_gatewayDevices, name);
        _futureSkewMs = (long)options.MaxFutureSkew.TotalMilliseconds;
        _pastAgeMs = (long)options.MaxPastAge.TotalMilliseconds;
        _historicalAgeMs = (long)options.MaxHistoricalAge.TotalMilliseconds;
        Sparkplug = new SparkplugHostSession(model, options.Sparkplug, telemetry);
    }

    public AssetModel Model { get; }

    public SparkplugHostSession Sparkplug { get; }

    /// <summary>The topic filters a gateway subscribes to so that every format this ingestor reads reaches it.</summary>
    public IReadOnlyList<string> SubscriptionFilters() =>
    [
        TelemetryTopics.SiteFilter(Model.SiteId),
        ThingsBoardDeviceTopic,
        ThingsBoardGatewayTopic,
        "devices/+/messages/events/#",
        SparkplugTopic.Namespace + "/#",
    ];

    public IngestResult Ingest(string topic, ReadOnlyMemory<byte> payload, DateTimeOffset receivedAt, IIngestSink sink, MqttClientIdentity client = default) =>
        Ingest(topic, new ReadOnlySequence<byte>(payload), receivedAt, sink, client);

    /// <summary>Ingests at the current time of the injected <see cref="TimeProvider"/>.</summary>
    public IngestResult Ingest(string topic, ReadOnlyMemory<byte> payload, IIngestSink sink, MqttClientIdentity client = default) =>
        Ingest(topic, new ReadOnlySequence<byte>(payload), _time.GetUtcNow(), sink, client);

    /// <summary>Ingests one MQTT message. <paramref name="payload"/> is MQTTnet's <c>ApplicationMessage.Payload</c> as is.</summary>
    public IngestResult Ingest(string topic, ReadOnlySequence<byte> payload, DateTimeOffset receivedAt, IIngestSink sink, MqttClientIdentity client = default)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(sink);
        _scope.Clear();
        var receivedMs = receivedAt.ToUnixTimeMilliseconds();
        var format = Classify(topic, out var pdmAsset, out var sparkplugTopic, out var deadLetterTopic);
        if (payload.Length > _options.MaxPayloadBytes)
        {
            return Reject(format, RejectReason.PayloadTooLarge, "payload larger than the configured maximum", topic, null, receivedAt, payload, sink, deadLetterTopic);
        }

        var reason = RejectReason.None;
        var detail = string.Empty;
        string? assetId = null;
        switch (format)
        {
            case MessageFormat.Unknown:
                reason = RejectReason.UnknownTopic;
                detail = deadLetterTopic ? "dead-letter topic" : "topic matches no accepted format";
                break;
            case MessageFormat.PdmJson:
                if (pdmAsset.Start.Equals(pdmAsset.End))
                {
                    reason = RejectReason.UnknownTopic;
                    detail = "telemetry topic of another site";
                }
                else
                {
                    var asset = Model.TryGetAsset(topic.AsSpan(pdmAsset), out var known) ? known : null;
                    reason = DecodeForAsset(MessageFormat.PdmJson, asset, "topic asset is not in the site asset model", payload, receivedMs, out detail, out assetId);
                }

                break;
            case MessageFormat.ThingsBoardDevice:
                reason = DecodeForAsset(
                    MessageFormat.ThingsBoardDevice, ResolveThingsBoardDevice(client), "MQTT username/client id maps to no asset", payload, receivedMs, out detail, out assetId);
                break;
            case MessageFormat.ThingsBoardGateway:
                reason = DecodeJson(MessageFormat.ThingsBoardGateway, null, payload, receivedMs, out detail);
                break;
            case MessageFormat.AzureIotHub:
                reason = IngestAzure(topic, payload, receivedMs, out detail, out assetId);
                break;
            case MessageFormat.SparkplugState:
                // Another host's (or our own) STATE: JSON, not telemetry. SparkplugHostState.TryParse reads it when the caller cares.
                break;
            case MessageFormat.SparkplugB:
                reason = Sparkplug.Handle(topic, sparkplugTopic, payload, _options.MaxProtobufDepth, receivedAt, _scope, sink, out detail, out assetId);
                break;
        }

        if (reason != RejectReason.None)
        {
            return Reject(format, reason, detail, topic, assetId, receivedAt, payload, sink, deadLetterTopic);
        }

        return Commit(format, topic, receivedMs, receivedAt, payload, sink);
    }

    private IngestResult Commit(MessageFormat format, string topic, long receivedMs, DateTimeOffset receivedAt, in ReadOnlySequence<byte> payload, IIngestSink sink)
    {
        var accepted = 0;
        var rejected = 0;
        for (var i = 0; i < _scope.Count; i++)
        {
            ref var entry = ref _scope[i];
            var reason = Validate(ref entry, receivedMs, out var detail);
            if (reason == RejectReason.None)
            {
                var sensor = entry.Sensor!;
                sink.OnReading(new Reading(sensor.Asset.SiteId, sensor.Asset.Id, sensor.Id, sensor.Key, entry.TimeMs, entry.Value, entry.Flags));
                accepted++;
                continue;
            }

            rejected++;
            var rejection = new Rejection(reason, detail, topic, WholeMessage: false, entry.Asset?.Id, entry.Sensor?.Id, entry.TimeMs, entry.Value);
            Rejected(rejection, receivedAt, payload, sink, suppressDeadLetter: false);
        }

        _scope.Clear();
        _telemetry.Accepted(accepted, format);
        return new IngestResult(IngestStatus.Accepted, format, RejectReason.None, accepted, rejected);
    }

    private RejectReason Validate(ref MessageScope.Entry entry, long receivedMs, out string detail)
    {
        if (entry.PreReason != RejectReason.None)
        {
            detail = entry.Detail ?? entry.PreReason.ToCode();
            return entry.PreReason;
        }

        var sensor = entry.Sensor;
        if (sensor is null)
        {
            detail = "sensor is not declared for the asset";
            return RejectReason.UnknownSensor;
        }

        if (!double.IsFinite(entry.Value))
        {
            detail = "value is NaN or infinite";
            return RejectReason.NotFinite;
        }

        if (entry.Value < sensor.ValidMin || entry.Value > sensor.ValidMax)
        {
            detail = "value outside the sensor's valid range";
            return RejectReason.OutOfRange;
        }

        if ((entry.Flags & ReadingTraits.TimeFromReceipt) == 0)
        {
            var maxAge = (entry.Flags & ReadingTraits.Historical) != 0 ? _historicalAgeMs : _pastAgeMs;
            // Compared as differences so extreme device times cannot overflow into "plausible".
            if (entry.TimeMs > receivedMs && entry.TimeMs - receivedMs > _futureSkewMs)
            {
                detail = "device time too far in the future";
                return RejectReason.DeviceTimeSkew;
            }

            if (entry.TimeMs < receivedMs && (entry.TimeMs < receivedMs - maxAge || receivedMs - entry.TimeMs > maxAge))
            {
                detail = "device time too far in the past";
                return RejectReason.DeviceTimeSkew;
            }
        }

        detail = string.Empty;
        return RejectReason.None;
    }

    /// <summary>
    /// A message this ingestor decoded, or failed to, made a stage of the caller throw: rejects it whole as
    /// <see cref="RejectReason.Poisoned"/> through the usual path (counted by reason, handed to the sink, sampled to the
    /// dead-letter topic) with <paramref name="detail"/> naming the stage and the exception.
    /// </summary>
    public void Poisoned(string topic, string? assetId, string detail, ReadOnlyMemory<byte> payload, DateTimeOffset receivedAt, IIngestSink sink)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(detail);
        ArgumentNullException.ThrowIfNull(sink);
        _ = Classify(topic, out _, out _, out var deadLetterTopic);
        Rejected(new Rejection(RejectReason.Poisoned, detail, topic, WholeMessage: true, assetId), receivedAt, new ReadOnlySequence<byte>(payload), sink, deadLetterTopic);
    }

    private IngestResult Reject(MessageFormat format, RejectReason reason, string detail, string topic, string? assetId, DateTimeOffset receivedAt, in ReadOnlySequence<byte> payload, IIngestSink sink, bool suppressDeadLetter)
    {
        // Readings decoded before the failure are dropped with the message: all or nothing.
        _scope.Clear();
        var rejection = new Rejection(reason, detail, topic, WholeMessage: true, assetId);
        Rejected(rejection, receivedAt, payload, sink, suppressDeadLetter);
        return new IngestResult(IngestStatus.Rejected, format, reason, 0, 0);
    }

    private void Rejected(in Rejection rejection, DateTimeOffset receivedAt, in ReadOnlySequence<byte> payload, IIngestSink sink, bool suppressDeadLetter)
    {
        _telemetry.Rejected(rejection.Reason);
        sink.OnRejected(rejection);
        // Never dead-letter what came in on a dead-letter topic: a gateway subscribed too widely would loop forever.
        if (suppressDeadLetter)
        {
            return;
        }

        if (_deadLetters.TryTake(rejection.Reason))
        {
            sink.OnDeadLetter(_deadLetters.Build(rejection, receivedAt, payload));
        }
        else
        {
            _telemetry.DeadLetterSuppressed(rejection.Reason);
        }
    }

    // A format whose topic or session names one asset: the message is that asset's, or it is rejected whole when the name maps to none.
    private RejectReason DecodeForAsset(
        MessageFormat format, AssetEntry? asset, string noAssetDetail, in ReadOnlySequence<byte> payload, long receivedMs, out string detail, out string? assetId)
    {
        assetId = asset?.Id;
        if (asset is null)
        {
            detail = noAssetDetail;
            return RejectReason.UnknownAsset;
        }

        return DecodeJson(format, asset, payload, receivedMs, out detail);
    }

    private RejectReason DecodeJson(MessageFormat format, AssetEntry? asset, in ReadOnlySequence<byte> payload, long receivedMs, out string detail)
    {
        // Utf8JsonReader checks UTF-8 only where it transcodes, and then throws InvalidOperationException: check it once, up front (vectorised).
        if (!IsValidUtf8(payload))
        {
            detail = "payload is not valid UTF-8";
            return RejectReason.Malformed;
        }

        var depth = _options.MaxJsonDepth;
        var reader = new Utf8JsonReader(payload, JsonDecoding.ReaderOptions(depth));
        try
        {
            return format switch
            {
                MessageFormat.PdmJson => PdmJsonDecoder.Decode(ref reader, asset!, _scope, receivedMs, depth, out detail),
                MessageFormat.ThingsBoardGateway => KeyValueJsonDecoder.DecodeGateway(ref reader, _resolveGatewayDevice, _scope, receivedMs, depth, out detail),
                _ => KeyValueJsonDecoder.DecodeDocument(ref reader, asset!, _scope, receivedMs, depth, out detail),
            };
        }
        catch (JsonException)
        {
            // Utf8JsonReader reports syntax errors (truncation, bare NaN, trailing garbage) only by throwing; this is the one catch.
            detail = "not valid JSON";
            return RejectReason.Malformed;
        }
    }

    private static bool IsValidUtf8(in ReadOnlySequence<byte> payload)
    {
        if (payload.IsSingleSegment)
        {
            return System.Text.Unicode.Utf8.IsValid(payload.FirstSpan);
        }

        var length = (int)payload.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            payload.CopyTo(buffer);
            return System.Text.Unicode.Utf8.IsValid(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private RejectReason IngestAzure(string topic, in ReadOnlySequence<byte> payload, long receivedMs, out string detail, out string? assetId)
    {
        assetId = null;
        // devices/{deviceId}/messages/events/{property_bag}
        var rest = topic.AsSpan("devices/".Length);
        var slash = rest.IndexOf('/');
        var deviceId = rest[..slash];
        var bag = rest[(slash + "/messages/events".Length)..].TrimStart('/');
        if (!IsJsonContentType(bag))
        {
            detail = "property bag declares a non-JSON content type ($.ct)";
            return RejectReason.Malformed;
        }

        return DecodeForAsset(MessageFormat.AzureIotHub, Resolve(_azureDevices, deviceId), "IoT Hub device id maps to no asset", payload, receivedMs, out detail, out assetId);
    }

    // No $.ct means "the body is whatever the device sends": read it as JSON. A declared non-JSON type is taken at its word.
    private static bool IsJsonContentType(ReadOnlySpan<char> bag)
    {
        foreach (var range in bag.Split('&'))
        {
            var pair = bag[range];
            if (pair.StartsWith("$.ct=", StringComparison.Ordinal))
            {
                var value = pair["$.ct=".Length..];
                return value.StartsWith("application%2Fjson", StringComparison.OrdinalIgnoreCase)
                    || value.StartsWith("application/json", StringComparison.OrdinalIgnoreCase);
            }
        }

        return true;
    }

    private AssetEntry? ResolveThingsBoardDevice(MqttClientIdentity client)
    {
        if (client.Username is { Length: > 0 } user && _thingsBoardDevices.TryGetValue(user, out var byUser))
        {
            return byUser;
        }

        if (client.ClientId is { Length: > 0 } clientId)
        {
            return Resolve(_thingsBoardDevices, clientId);
        }

        return null;
    }

    private AssetEntry? Resolve(Dictionary<string, AssetEntry> mapping, ReadOnlySpan<char> name)
    {
        if (mapping.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out var mapped))
        {
            return mapped;
        }

        return Model.TryGetAsset(name, out var asset) ? asset : null;
    }

    private MessageFormat Classify(string topic, out Range pdmAsset, out SparkplugTopic sparkplug, out bool deadLetterTopic)
    {
        pdmAsset = default;
        sparkplug = default;
        deadLetterTopic = false;
        var span = topic.AsSpan();
        if (span.StartsWith(TelemetryTopics.Root + "/", StringComparison.Ordinal))
        {
            if (span.EndsWith("/" + TelemetryTopics.DeadLetterSegment, StringComparison.Ordinal))
            {
                deadLetterTopic = true;
                return MessageFormat.Unknown;
            }

            if (!TelemetryTopics.TryParse(span, out var site, out var asset))
            {
                return MessageFormat.Unknown;
            }

            // An empty range marks "another site's telemetry": recognised, but not ours to ingest.
            pdmAsset = span[site].SequenceEqual(Model.SiteId) ? asset : default;
            return MessageFormat.PdmJson;
        }

        if (span.SequenceEqual(ThingsBoardDeviceTopic))
        {
            return MessageFormat.ThingsBoardDevice;
        }

        if (span.SequenceEqual(ThingsBoardGatewayTopic))
        {
            return MessageFormat.ThingsBoardGateway;
        }

        if (span.StartsWith("devices/", StringComparison.Ordinal))
        {
            var rest = span["devices/".Length..];
            var slash = rest.IndexOf('/');
            if (slash > 0)
            {
                var tail = rest[slash..];
                if (tail.SequenceEqual("/messages/events") || tail.StartsWith("/messages/events/", StringComparison.Ordinal))
                {
                    return MessageFormat.AzureIotHub;
                }
            }

            return MessageFormat.Unknown;
        }

        if (SparkplugTopic.TryParse(span, out sparkplug))
        {
            return sparkplug.Type == SparkplugMessageType.State ? MessageFormat.SparkplugState : MessageFormat.SparkplugB;
        }

        return MessageFormat.Unknown;
    }

    private static Dictionary<string, AssetEntry> CompileMapping(AssetModel model, Dictionary<string, string> mapping, string name)
    {
        var compiled = new Dictionary<string, AssetEntry>(StringComparer.Ordinal);
        foreach (var (key, assetId) in mapping)
        {
            if (!model.TryGetAsset(assetId, out var asset))
            {
                throw new ArgumentException($"Mappings.{name}: '{key}' points at unknown asset '{assetId}'.", nameof(mapping));
            }

            compiled[key] = asset;
        }

        return compiled;
    }
}
