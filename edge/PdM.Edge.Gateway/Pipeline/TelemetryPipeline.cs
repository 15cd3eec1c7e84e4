using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Options;
using PdM.Contracts;
using PdM.Contracts.Decisions;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway.Mqtt;
using PdM.Edge.Gateway.Rules;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// Reads messages from the ingest channel in order: decode → validate → decide → publish, then acknowledge.
/// <para>
/// When a message is acknowledged (the QoS 1 PUBACK to the broker): after every reading in it was either rejected
/// (counted, dead-lettered) or evaluated, and every <see cref="FailurePredicted"/> it caused was confirmed by the
/// message bus (RabbitMQ publisher confirm). Until then the broker holds the message in our persistent session and
/// redelivers it if the gateway dies. A bus that is down stalls the pipeline (retried with backoff), which fills the
/// channel, which stops reading from the broker: backpressure, not loss.
/// </para>
/// </summary>
public sealed partial class TelemetryPipeline(
    IngestChannel channel,
    ThresholdRuleEvaluator rules,
    IBus bus,
    MqttPublisher mqtt,
    IOptions<GatewayOptions> options,
    GatewayTelemetry telemetry,
    TimeProvider clock,
    ILogger<TelemetryPipeline> logger) : BackgroundService
{
    private const int DeadLetterExcerptBytes = 512;
    private readonly GatewayOptions _options = options.Value;
    private readonly List<FailurePredicted> _pending = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var message in channel.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await Process(message, stoppingToken);
                    await message.Acknowledge(stoppingToken);
                }
                finally
                {
                    message.Release();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task Process(InboundMessage message, CancellationToken cancellationToken)
    {
        _pending.Clear();
        var topic = message.Topic;
        if (!TelemetryTopics.TryParse(topic, out var siteRange, out var assetRange) || !topic.AsSpan(siteRange).SequenceEqual(_options.SiteId))
        {
            await Reject(message, "unknown_topic", "topic is not pdm/{site}/{asset}/telemetry of this site", cancellationToken);
            return;
        }

        var assetId = topic[assetRange];
        TelemetryMessage? payload;
        try
        {
            payload = JsonSerializer.Deserialize(message.Payload.Span, ContractsJsonContext.Default.TelemetryMessage);
        }
        catch (JsonException exception)
        {
            await Reject(message, "malformed", exception.Message, cancellationToken);
            return;
        }

        if (payload is null)
        {
            await Reject(message, "malformed", "payload is JSON null", cancellationToken);
            return;
        }

        if (payload.SchemaVersion != TelemetryMessage.CurrentSchemaVersion)
        {
            await Reject(message, "unsupported_schema_version", $"schemaVersion {payload.SchemaVersion}; this gateway reads {TelemetryMessage.CurrentSchemaVersion}", cancellationToken);
            return;
        }

        if (payload.Asset is not null && !string.Equals(payload.Asset, assetId, StringComparison.Ordinal))
        {
            await Reject(message, "asset_mismatch", $"payload asset '{payload.Asset}' on the topic of '{assetId}'", cancellationToken);
            return;
        }

        if (payload.Readings is { } readings)
        {
            if (payload.DeviceTime is not { } deviceTime)
            {
                await Reject(message, "malformed", "readings without deviceTime", cancellationToken);
                return;
            }

            await Evaluate(message, assetId, deviceTime, readings, cancellationToken);
        }
        else if (payload.Batch is { Count: > 0 } batch)
        {
            foreach (var snapshot in batch)
            {
                await Evaluate(message, assetId, snapshot.DeviceTime, snapshot.Readings, cancellationToken);
            }
        }
        else
        {
            await Reject(message, "malformed", "neither readings nor batch", cancellationToken);
            return;
        }

        foreach (var prediction in _pending)
        {
            await PublishUntilConfirmed(prediction, cancellationToken);
        }
    }

    private async Task Evaluate(InboundMessage message, string assetId, DateTimeOffset deviceTime, Dictionary<string, double> readings, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        foreach (var (sensor, value) in readings)
        {
            if (!double.IsFinite(value))
            {
                await Reject(message, "not_finite", $"{sensor} = {value}", cancellationToken);
                continue;
            }

            telemetry.ReadingsAccepted.Add(1);
            if (rules.Evaluate(assetId, sensor, value, deviceTime, message.Topic, now) is { } prediction)
            {
                _pending.Add(prediction);
            }
        }
    }

    private async Task PublishUntilConfirmed(FailurePredicted prediction, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                // The prediction id is the message id: a retried publish is a duplicate consumers recognise.
                await bus.Publish(prediction, context => context.MessageId = prediction.PredictionId, cancellationToken);
                telemetry.Decisions.Add(1, new KeyValuePair<string, object?>("path", prediction.Provenance.Path.ToString()));
                LogPredicted(logger, prediction.AssetId, prediction.FailureMode, prediction.HealthState, prediction.Evidence[0].Signal, prediction.Evidence[0].Value);
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogPublishFailed(logger, prediction.PredictionId, delay.TotalSeconds, exception.Message);
                await Task.Delay(delay, clock, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    private async Task Reject(InboundMessage message, string reason, string detail, CancellationToken cancellationToken)
    {
        telemetry.Reject(reason);
        LogRejected(logger, message.Topic, reason, detail);

        var excerpt = message.Payload.Span[..Math.Min(message.Length, DeadLetterExcerptBytes)];
        var sample = new DeadLetterSample(reason, detail, message.Topic, message.ReceivedAt, Encoding.UTF8.GetString(excerpt));
        var bytes = JsonSerializer.SerializeToUtf8Bytes(sample, GatewayJsonContext.Default.DeadLetterSample);
        await mqtt.TryPublish(TelemetryTopics.DeadLetter(_options.SiteId), bytes, retain: false, cancellationToken);
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Rejected telemetry on {Topic}: {Reason} ({Detail})")]
    private static partial void LogRejected(ILogger logger, string topic, string reason, string detail);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Failure predicted for {AssetId}: {FailureMode} ({HealthState}), {Signal} = {Value}")]
    private static partial void LogPredicted(ILogger logger, string assetId, string failureMode, HealthState healthState, string signal, double value);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Publishing prediction {PredictionId} failed, retrying in {DelaySeconds:0.0} s: {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, Guid predictionId, double delaySeconds, string reason);
}
