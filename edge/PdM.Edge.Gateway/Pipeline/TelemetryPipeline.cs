using PdM.Edge.Gateway.Uplink;
using PdM.Contracts.Decisions;
using PdM.Contracts.Edge;
using PdM.Edge.Gateway.Mqtt;
using PdM.Contracts.Models;
using PdM.Contracts.Telemetry;
using PdM.Edge.Ingestion;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// Reads messages from the ingest channel in order: decode + validate (<see cref="TelemetryIngestor"/>) → features
/// (<see cref="FeatureStage"/>) → decide (<see cref="DecisionStage"/>) → publish (and batch windows for the feature
/// store, <see cref="FeatureUploadBatcher"/>), then acknowledge.
/// <para>
/// When a message is acknowledged (the QoS 1 PUBACK to the broker): after every reading in it was either rejected
/// (counted, dead-lettered) or used, and every event it caused (<see cref="FailurePredicted"/>,
/// <see cref="AssetHealthAssessed"/>, <see cref="AssetWentOffline"/>) was committed to the gateway's durable journal
/// (SQLite, fsynced). The PUBACK is then held with the others of a burst (<see cref="PubAckCoalescer"/>) and written no
/// later than when the pipeline next finds nothing waiting, or once <c>Gateway:Mqtt:PubAckBatch</c> are held. Until
/// it reaches the broker, the broker holds the message in our persistent session and redelivers it if the
/// gateway dies. After it, the journal owns the events: they survive a crash or a cloud outage and reach the bus
/// through <see cref="Uplink.JournalUplinkService"/>. Readings themselves are not journaled, only what they caused: a
/// gateway killed with a window half full loses that partial window (its readings were acknowledged once added), and
/// the asset's next window starts from the next reading.
/// </para>
/// </summary>
public sealed partial class TelemetryPipeline(
    IngestChannel channel,
    TelemetryIngestor ingestor,
    Sharding.AssetShards shards,
    FeatureStage features,
    DecisionStage decisions,
    FeatureUploadBatcher uploads,
    EventJournal journal,
    MqttPublisher mqtt,
    PubAckCoalescer pubAcks,
    GatewayTelemetry telemetry,
    TimeProvider clock,
    ILogger<TelemetryPipeline> logger) : BackgroundService
{
    private readonly CollectingIngestSink _sink = new();
    private readonly List<DecisionEvents> _decided = [];
    private readonly List<FeatureWindowsCollected> _uploads = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var reader = channel.Reader;
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                while (reader.TryRead(out var message))
                {
                    try
                    {
                        await Process(message, stoppingToken);
                        await Acknowledge(message, stoppingToken);
                        telemetry.MessagesProcessed.Add(1);
                        if (_sink.Readings.Count > 0)
                        {
                            telemetry.ReadingAge.Record(clock.GetUtcNow().ToUnixTimeMilliseconds() - _sink.Readings[0].DeviceTimeUnixMs);
                        }
                    }
                    finally
                    {
                        message.Release();
                    }
                }

                // Nothing more waiting: the PUBACKs held for the messages just processed leave now, together.
                await pubAcks.FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// A PUBACK that cannot be sent (the connection dropped, or the MQTT client was disposed while the host stops) is
    /// counted and let go: the message stays unacknowledged in our session and the broker redelivers it. Failing the
    /// pipeline for it would stop the host over something the protocol already recovers from.
    /// </summary>
    private async Task Acknowledge(InboundMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await message.Acknowledge(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            telemetry.AcknowledgementsFailed.Add(1);
            LogAcknowledgeFailed(logger, message.Topic, exception);
        }
    }

    private async Task Process(InboundMessage message, CancellationToken cancellationToken)
    {
        _sink.Clear();
        _decided.Clear();
        features.ClearClosed();
        ingestor.Ingest(message.Topic, message.Payload, message.ReceivedAt, _sink, message.Client);

        foreach (var rejection in _sink.Rejections)
        {
            if (rejection.WholeMessage)
            {
                LogRejectedMessage(logger, rejection.Topic, rejection.Code, rejection.Detail);
            }
            else
            {
                LogRejectedReading(logger, rejection.Topic, rejection.Code, rejection.Detail, rejection.AssetId, rejection.SensorId);
            }
        }

        foreach (var reading in _sink.Readings)
        {
            // Store-and-forward data from the device belongs to the record, not to a live decision. A sharded site's
            // sessions each receive every reading; each keeps its own shard's assets.
            if (!reading.IsHistorical && shards.Accepts(message.Shard, reading.AssetId))
            {
                features.Add(reading);
            }
        }

        await decisions.DecideAsync(features.Closed, message.Topic, _decided, cancellationToken);
        if (features.Closed.Count > 0)
        {
            var latency = (clock.GetUtcNow() - message.ReceivedAt).TotalMilliseconds;
            for (var i = 0; i < features.Closed.Count; i++)
            {
                telemetry.DecisionLatency.Record(latency);
            }
        }

        // Feature batches are journaled before the acknowledgement like every other effect of the message.
        _uploads.Clear();
        if (uploads.Enabled)
        {
            uploads.Add(features.Closed, _uploads);
            uploads.TakeDue(_uploads);
        }

        // What concerns a message rather than an asset is handled once per site: by shard 0's session when sharded.
        var siteWide = message.Shard <= 0;
        foreach (var sample in siteWide ? _sink.DeadLetters : [])
        {
            await mqtt.TryPublish(sample.Topic, sample.Payload, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce, cancellationToken);
        }

        foreach (var command in siteWide ? _sink.Commands : [])
        {
            LogRebirth(logger, command.GroupId, command.EdgeNodeId, command.Cause);
            await mqtt.TryPublish(command.Topic, command.Payload, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce, cancellationToken);
        }

        foreach (var offline in _sink.Offline)
        {
            if (!shards.Accepts(message.Shard, offline.AssetId))
            {
                continue;
            }

            LogOffline(logger, offline.AssetId, offline.Reason);
            await journal.AppendAsync(offline, offline.EventId, offline.OccurredAt, cancellationToken);
        }

        foreach (var batch in _uploads)
        {
            await journal.AppendAsync(batch, batch.BatchId, batch.OccurredAt, cancellationToken);
        }

        foreach (var (prediction, assessment) in _decided)
        {
            if (prediction is not null)
            {
                await journal.AppendAsync(prediction, prediction.PredictionId, prediction.OccurredAt, cancellationToken);
                telemetry.Decisions.Add(1, new KeyValuePair<string, object?>("path", prediction.Provenance.Path.ToString()));
                LogPredicted(logger, prediction.AssetId, prediction.FailureMode, prediction.HealthState, prediction.Provenance.Path,
                    prediction.Provenance.ModelName ?? prediction.Provenance.RulesetName, prediction.Provenance.FallbackReason);
            }

            if (assessment is not null)
            {
                await journal.AppendAsync(assessment, assessment.AssessmentId, assessment.OccurredAt, cancellationToken);
            }
        }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Rejected telemetry on {Topic}: {Reason} ({Detail})")]
    private static partial void LogRejectedMessage(ILogger logger, string topic, string reason, string detail);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Debug, Message = "Rejected reading on {Topic}: {Reason} ({Detail}) asset {AssetId} sensor {SensorId}")]
    private static partial void LogRejectedReading(ILogger logger, string topic, string reason, string detail, string? assetId, string? sensorId);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Failure predicted for {AssetId}: {FailureMode} ({HealthState}) by {Path} {Source} (fallback: {FallbackReason})")]
    private static partial void LogPredicted(ILogger logger, string assetId, string failureMode, HealthState healthState, DecisionPath path, string? source, string? fallbackReason);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Information, Message = "Sparkplug rebirth requested from {GroupId}/{EdgeNodeId}: {Cause}")]
    private static partial void LogRebirth(ILogger logger, string groupId, string edgeNodeId, RejectReason cause);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Debug, Message = "PUBACK for a message on {Topic} not sent; the broker will redeliver it")]
    private static partial void LogAcknowledgeFailed(ILogger logger, string topic, Exception exception);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Warning, Message = "Asset {AssetId} went offline: {Reason}")]
    private static partial void LogOffline(ILogger logger, string assetId, AssetOfflineReason reason);
}
