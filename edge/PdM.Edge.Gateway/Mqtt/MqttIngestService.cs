using System.Buffers;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Edge.Ingestion;
using PdM.Edge.Ingestion.Sparkplug;
using PdM.Edge.Gateway.Pipeline;

namespace PdM.Edge.Gateway.Mqtt;

/// <summary>
/// Keeps one MQTT 5 session to the plant broker alive and feeds received messages into the pipeline channel.
/// The session is persistent (clean start off, configurable expiry) and subscriptions are QoS 1 with manual
/// acknowledgement, so a message the gateway has not finished with is redelivered by the broker after a crash or
/// disconnect. The receive handler does no I/O: it copies the payload into a pooled buffer and writes to a bounded channel.
/// </summary>
public sealed partial class MqttIngestService(
    IOptions<GatewayOptions> options,
    Sharding.AssetShards shards,
    IOptions<IngestionOptions> ingestionOptions,
    TelemetryIngestor ingestor,
    IngestChannel channel,
    MqttPublisher publisher,
    PubAckCoalescer pubAcks,
    GatewayTelemetry telemetry,
    TimeProvider clock,
    ILogger<MqttIngestService> logger) : BackgroundService
{
    private readonly GatewayOptions _options = options.Value;
    private readonly int _maxPayloadBytes = ingestionOptions.Value.MaxPayloadBytes;
    private readonly string _sparkplugHostId = ingestionOptions.Value.Sparkplug.HostId;

    // Sharded (Gateway:Sharding): this gateway's own session is its shard's, and the pipeline keeps that shard's assets.
    private readonly int _ownShard = options.Value.Sharding.Enabled ? options.Value.Sharding.Index : -1;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var client = new MqttClientFactory().CreateMqttClient(pubAcks);
        client.ApplicationMessageReceivedAsync += args => Receive(args, _ownShard);
        publisher.Attach(client);

        var delay = TimeSpan.FromMilliseconds(250);
        var maxDelay = TimeSpan.FromSeconds(_options.Mqtt.ReconnectMaxDelaySeconds);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (!client.IsConnected)
                {
                    try
                    {
                        var clientId = _ownShard >= 0 ? shards.SessionClientId(_ownShard) : _options.Mqtt.ClientId ?? _options.EffectiveGatewayId;
                        await ConnectAndSubscribe(client, clientId, primary: true, stoppingToken);
                        delay = TimeSpan.FromMilliseconds(250);
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                    {
                        telemetry.Connections.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
                        LogConnectFailed(logger, _options.Mqtt.Host, _options.Mqtt.Port, delay.TotalSeconds, exception.Message);
                        await Task.Delay(WithJitter(delay), clock, stoppingToken);
                        delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, maxDelay.Ticks));
                        continue;
                    }
                }

                // Supervise: a dropped connection is noticed within a second and re-established with backoff.
                await Task.Delay(TimeSpan.FromSeconds(1), clock, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            publisher.Detach();
            if (client.IsConnected)
            {
                // A normal disconnect keeps the session: the broker queues for us until we are back.
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), timeout.Token);
            }
        }
    }

    /// <summary>Broker address, credentials, TLS and keep-alive: what every connection of the gateway shares.</summary>
    public static MqttClientOptionsBuilder BaseOptions(MqttConnectionOptions mqtt, string clientId)
    {
        ArgumentNullException.ThrowIfNull(mqtt);
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(mqtt.Host, mqtt.Port)
            .WithClientId(clientId)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(mqtt.KeepAliveSeconds))
            .WithTimeout(TimeSpan.FromSeconds(10));
        if (!string.IsNullOrEmpty(mqtt.Username))
        {
            builder.WithCredentials(mqtt.Username, mqtt.Password);
        }

        if (mqtt.UseTls)
        {
            builder.WithTlsOptions(tls => BrokerTls.Configure(tls, mqtt));
        }

        return builder;
    }

    /// <summary>
    /// Connects <paramref name="client"/> as <paramref name="clientId"/> with a persistent session and subscribes to the
    /// site's telemetry. The <paramref name="primary"/> connection also carries the Sparkplug host STATE; a shard session
    /// taken over from a dead peer (<see cref="Sharding.ShardTakeoverService"/>) does not. Returns whether the broker
    /// resumed an existing session.
    /// </summary>
    internal async Task<bool> ConnectAndSubscribe(IMqttClient client, string clientId, bool primary, CancellationToken cancellationToken)
    {
        var mqtt = _options.Mqtt;
        var builder = BaseOptions(mqtt, clientId)
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)mqtt.SessionExpirySeconds);
        if (primary && _options.SparkplugHost)
        {
            // Sparkplug 3.0 host: the broker announces our death with a retained STATE offline message.
            var will = SparkplugHostState.Will(_sparkplugHostId, clock.GetUtcNow().ToUnixTimeMilliseconds());
            builder.WithWillTopic(will.Topic)
                .WithWillPayload(will.Payload)
                .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithWillRetain(true);
        }

        var result = await client.ConnectAsync(builder.Build(), cancellationToken);

        var filters = _options.Mqtt.TopicFilters is { Count: > 0 } configured ? configured : ingestor.SubscriptionFilters();
        var subscribe = new MqttClientSubscribeOptionsBuilder();
        foreach (var topic in filters)
        {
            subscribe.WithTopicFilter(f => f.WithTopic(topic).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce));
        }

        // Subscribing again on a resumed session is harmless and covers a broker that lost its session store.
        await client.SubscribeAsync(subscribe.Build(), cancellationToken);
        if (primary && _options.SparkplugHost)
        {
            var online = SparkplugHostState.Online(_sparkplugHostId, clock.GetUtcNow().ToUnixTimeMilliseconds());
            await client.PublishAsync(
                new MqttApplicationMessageBuilder().WithTopic(online.Topic).WithPayload(online.Payload)
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag(true).Build(),
                cancellationToken);
        }

        // Counted once subscribed: from here on, a published message reaches the pipeline.
        telemetry.Connections.Add(1, new KeyValuePair<string, object?>("outcome", result.IsSessionPresent ? "resumed" : "new_session"));
        var filterList = string.Join(", ", filters);
        LogConnected(logger, mqtt.Host, mqtt.Port, filterList, result.IsSessionPresent);
        return result.IsSessionPresent;
    }

    /// <summary>
    /// Hands a received message to the pipeline, tagged with the shard whose session it came on (-1: not sharded).
    /// </summary>
    internal async Task Receive(MqttApplicationMessageReceivedEventArgs args, int shard)
    {
        var payload = args.ApplicationMessage.Payload;
        telemetry.MessagesReceived.Add(1);
        args.AutoAcknowledge = false;

        // An oversize payload is copied only up to one byte past the limit: enough for the ingestor to reject it as
        // payload_too_large with an excerpt, without costing its full size in memory.
        var length = (int)Math.Min(payload.Length, _maxPayloadBytes + 1L);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        payload.Slice(0, length).CopyTo(buffer);
        // Only a device that sends a trace context pays for reading it, and only while spans are recorded.
        var (traceParent, traceState) = args.ApplicationMessage.UserProperties is { Count: > 0 } properties && GatewayTelemetry.ActivitySource.HasListeners()
            ? TraceContextOf(properties)
            : default;
        var message = new InboundMessage(args.ApplicationMessage.Topic, buffer, length, clock.GetUtcNow(), default, args.AcknowledgeAsync, shard)
        {
            TraceParent = traceParent,
            TraceState = traceState,
        };

        if (channel.Writer.TryWrite(message))
        {
            return;
        }

        telemetry.BackpressureEvents.Add(1, new KeyValuePair<string, object?>("policy", _options.Pipeline.Backpressure.ToString()));
        if (_options.Pipeline.Backpressure == BackpressurePolicy.Wait)
        {
            // Holding the handler stops MQTTnet reading the socket, so the broker buffers: the lossless choice.
            await channel.Writer.WriteAsync(message);
            return;
        }

        message.Release();
        telemetry.Dropped.Add(1);
        await args.AcknowledgeAsync(CancellationToken.None);
        // The pipeline is behind and may not flush soon: a dropped message is let go at once.
        await pubAcks.FlushAsync(CancellationToken.None);
    }

    /// <summary>The <c>traceparent</c> and <c>tracestate</c> user properties (W3C "Trace Context: MQTT"), each null when absent.</summary>
    internal static (string? TraceParent, string? TraceState) TraceContextOf(List<MQTTnet.Packets.MqttUserProperty> properties)
    {
        string? traceParent = null;
        string? traceState = null;
        foreach (var property in properties)
        {
            if (string.Equals(property.Name, "traceparent", StringComparison.Ordinal))
            {
                traceParent = System.Text.Encoding.UTF8.GetString(property.ValueBuffer.Span);
            }
            else if (string.Equals(property.Name, "tracestate", StringComparison.Ordinal))
            {
                traceState = System.Text.Encoding.UTF8.GetString(property.ValueBuffer.Span);
            }
        }

        return (traceParent, traceState);
    }

    private static TimeSpan WithJitter(TimeSpan delay) =>
        delay + TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)Math.Max(1, delay.TotalMilliseconds / 4)));

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Connected to MQTT broker {Host}:{Port}, subscribed to {Filters} (session resumed: {SessionPresent})")]
    private static partial void LogConnected(ILogger logger, string host, int port, string filters, bool sessionPresent);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "MQTT connection to {Host}:{Port} failed, retrying in {DelaySeconds:0.0} s: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string host, int port, double delaySeconds, string reason);

}

/// <summary>The bounded channel between the MQTT receive handler and the pipeline.</summary>
public sealed class IngestChannel(IOptions<GatewayOptions> options)
{
    private readonly Channel<InboundMessage> _channel = Channel.CreateBounded<InboundMessage>(
        new BoundedChannelOptions(options.Value.Pipeline.ChannelCapacity)
        {
            SingleReader = true,
            // The own session's receive handler, and a shard session taken over from a dead peer.
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });

    public ChannelWriter<InboundMessage> Writer => _channel.Writer;

    public ChannelReader<InboundMessage> Reader => _channel.Reader;
}
