using PdM.Edge.Gateway.Uplink;
using PdM.Contracts.Decisions;
using PdM.Contracts.Edge;
using PdM.Edge.Gateway.Mqtt;
using PdM.Contracts.Models;
using PdM.Contracts.Telemetry;
using PdM.Edge.Ingestion;
using Microsoft.Extensions.Options;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// Reads messages from the ingest channel in order: decode + validate (<see cref="TelemetryIngestor"/>) → features
/// (<see cref="FeatureStage"/>) → decide (<see cref="DecisionStage"/>) → publish (and batch windows for the feature
/// store, <see cref="FeatureUploadBatcher"/>), then acknowledge.
/// <para>
/// Under load, messages are taken in batches: whatever is already waiting in the channel, up to
/// <c>Gateway:Pipeline:MaxBatchMessages</c>, is decoded and fed to the feature engines message by message, then every
/// window those messages closed is decided in one go, so windows of many assets share one ONNX Runtime call per asset
/// class. Effects are then journaled and the messages acknowledged in their arrival order, and an asset's windows are
/// decided in the order of its readings. A message that finds nothing waiting is a batch of one, processed at once:
/// nothing ever waits for company.
/// </para>
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
/// <para>
/// One message cannot stop the pipeline: an exception while decoding it, computing its features, deciding a window it
/// closed or journaling what it caused poisons that message only. It is dead-lettered like a rejected one (reason
/// <c>poisoned</c>, detail <c>{stage}: {exception type}: {message}</c>), counted (<c>pdm.pipeline.poisoned</c> by stage
/// and exception, and <c>pdm.ingest.rejected{reason=poisoned}</c>), logged, and acknowledged with the others, so the
/// broker does not hand it back at the next start; every other message of the batch is processed as usual. What the
/// poisoned message caused before the failure stands (a window it closed before a feature computation threw is
/// decided, a decision already made is journaled). A journal that cannot be written (full disk, I/O error) is not one
/// message's fault and never gets here: <see cref="EventJournal"/> retries the append, and the pipeline waits with its
/// messages unacknowledged.
/// </para>
/// </summary>
public sealed partial class TelemetryPipeline : BackgroundService
{
    private readonly IngestChannel _channel;
    private readonly TelemetryIngestor _ingestor;
    private readonly Sharding.AssetShards _shards;
    private readonly FeatureStage _features;
    private readonly DecisionStage _decisions;
    private readonly FeatureUploadBatcher _uploads;
    private readonly EventJournal _journal;
    private readonly MqttPublisher _mqtt;
    private readonly PubAckCoalescer _pubAcks;
    private readonly Shedding.InferenceBudget _budget;
    private readonly GatewayTelemetry _telemetry;
    private readonly TimeProvider _clock;
    private readonly ILogger<TelemetryPipeline> _logger;

    // One slot per message of a batch, reused: the message, what its decoding produced, and where its windows end in
    // FeatureStage.Closed (its windows are [end of the previous message, its own end)).
    private readonly InboundMessage?[] _batch;
    private readonly CollectingIngestSink[] _sinks;
    private readonly int[] _windowsEnd;
    private readonly List<string> _windowSources = [];
    private readonly List<DecisionEvents> _decided = [];
    private readonly List<FeatureWindowsCollected> _uploadBatches = [];

    // Per message of the batch: the first stage that threw on it, or null.
    private readonly Poison?[] _poisoned;
    private readonly List<PoisonedWindow> _poisonedWindows = [];

    public TelemetryPipeline(
        IngestChannel channel,
        TelemetryIngestor ingestor,
        Sharding.AssetShards shards,
        FeatureStage features,
        DecisionStage decisions,
        FeatureUploadBatcher uploads,
        EventJournal journal,
        MqttPublisher mqtt,
        PubAckCoalescer pubAcks,
        Shedding.InferenceBudget budget,
        GatewayTelemetry telemetry,
        TimeProvider clock,
        IOptions<GatewayOptions> options,
        ILogger<TelemetryPipeline> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _channel = channel;
        _ingestor = ingestor;
        _shards = shards;
        _features = features;
        _decisions = decisions;
        _uploads = uploads;
        _journal = journal;
        _mqtt = mqtt;
        _pubAcks = pubAcks;
        _budget = budget;
        _telemetry = telemetry;
        _clock = clock;
        _logger = logger;
        var size = options.Value.Pipeline.MaxBatchMessages;
        _batch = new InboundMessage?[size];
        _sinks = new CollectingIngestSink[size];
        for (var i = 0; i < size; i++)
        {
            _sinks[i] = new CollectingIngestSink();
        }

        _windowsEnd = new int[size];
        _poisoned = new Poison?[size];
    }

    /// <summary>
    /// Test seam: called with each message just before it is decoded, inside the decode stage's isolation. A test makes
    /// it throw for one message, as a bug in a decoder would (the ingestor itself never throws on bad input), to show
    /// that the pipeline poisons that message only; null in production.
    /// </summary>
    internal Action<InboundMessage>? BeforeDecode { get; set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var reader = _channel.Reader;
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                while (true)
                {
                    // Only what is already waiting: a batch never waits to fill up.
                    var count = 0;
                    while (count < _batch.Length && reader.TryRead(out var message))
                    {
                        _batch[count++] = message;
                    }

                    if (count == 0)
                    {
                        break;
                    }

                    try
                    {
                        // The batch's first message is the oldest the pipeline has not finished with: the inference
                        // budget's lag until the batch is acknowledged.
                        _budget.BatchStarted(_batch[0]!.ReceivedAt);
                        await ProcessBatch(count, stoppingToken);
                    }
                    finally
                    {
                        _budget.BatchFinished();
                        for (var i = 0; i < count; i++)
                        {
                            _batch[i]!.Release();
                            _batch[i] = null;
                        }
                    }
                }

                // Nothing more waiting: the PUBACKs held for the messages just processed leave now, together.
                await _pubAcks.FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ProcessBatch(int count, CancellationToken cancellationToken)
    {
        _features.ClearClosed();
        _windowSources.Clear();
        _decided.Clear();
        _poisonedWindows.Clear();
        Array.Clear(_poisoned, 0, count);
        var traced = GatewayTelemetry.ActivitySource.HasListeners();
        for (var i = 0; i < count; i++)
        {
            _poisoned[i] = Ingest(_batch[i]!, _sinks[i], traced);
            _windowsEnd[i] = _features.Closed.Count;
        }

        // Every window the batch closed, decided together: one model batch per asset class, in window order. A window
        // whose decision threw poisons the message that closed it.
        await _decisions.DecideAsync(_features.Closed, _windowSources, _decided, _poisonedWindows, cancellationToken);
        foreach (var failed in _poisonedWindows)
        {
            var i = 0;
            while (_windowsEnd[i] <= failed.Window)
            {
                i++;
            }

            _poisoned[i] ??= new Poison("decide", failed.Exception, _features.Closed[failed.Window].AssetId);
        }

        var decidedAt = _clock.GetUtcNow();

        // Feature batches are journaled before the acknowledgements like every other effect of the messages.
        _uploadBatches.Clear();
        if (_uploads.Enabled)
        {
            _uploads.Add(_features.Closed, _uploadBatches);
            _uploads.TakeDue(_uploadBatches);
        }

        foreach (var batch in _uploadBatches)
        {
            try
            {
                await _journal.AppendAsync(batch, batch.BatchId, batch.OccurredAt, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // A batch gathers the windows of many messages, so no one message can be blamed and dead-lettered for it.
                // Uncaught, it ended the pipeline and the gateway with it. Its rows are lost to the feature store (training
                // data, not a decision); counted and logged, and every decision goes on. A storage failure never gets here:
                // the journal retries those.
                _telemetry.FeatureBatchesDropped.Add(1, new KeyValuePair<string, object?>("exception", exception.GetType().Name));
                LogFeatureBatchDropped(_logger, batch.Rows.Count, exception.GetType().Name, exception.Message);
            }
        }

        // Each message's effects in arrival order (an asset's events stay in the order of its readings), then the
        // acknowledgements in the same order.
        var window = 0;
        var decided = 0;
        for (var i = 0; i < count; i++)
        {
            var message = _batch[i]!;
            var latency = (decidedAt - message.ReceivedAt).TotalMilliseconds;
            for (; window < _windowsEnd[i]; window++)
            {
                _telemetry.DecisionLatency.Record(latency);
            }

            try
            {
                await Publish(message, _sinks[i], cancellationToken);
                for (; decided < _decided.Count && _decided[decided].Window < _windowsEnd[i]; decided++)
                {
                    await Journal(_decided[decided], cancellationToken);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Named for the operator who reads the dead letter: the asset of the event that failed (a journal append
                // throws before the loop moves on), else of the message's readings.
                var assetId = decided < _decided.Count && _decided[decided].Window < _windowsEnd[i]
                    ? _decided[decided].Prediction?.AssetId ?? _decided[decided].Assessment?.AssetId
                    : null;
                assetId ??= _sinks[i].Readings.Count > 0 ? _sinks[i].Readings[0].AssetId : null;

                // The message's remaining events are not journaled: the next message starts with its own.
                while (decided < _decided.Count && _decided[decided].Window < _windowsEnd[i])
                {
                    decided++;
                }

                _poisoned[i] ??= new Poison("journal", exception, assetId);
            }

            if (_poisoned[i] is { } poison)
            {
                await DeadLetter(message, _sinks[i], poison, cancellationToken);
            }
        }

        for (var i = 0; i < count; i++)
        {
            await Acknowledge(_batch[i]!, cancellationToken);
            _telemetry.MessagesProcessed.Add(1);
            if (_sinks[i].Readings.Count > 0)
            {
                _telemetry.ReadingAge.Record(_clock.GetUtcNow().ToUnixTimeMilliseconds() - _sinks[i].Readings[0].DeviceTimeUnixMs);
            }
        }
    }

    /// <summary>
    /// Decodes one message into its sink and feeds its live readings to the feature engines; returns the stage that
    /// threw on it, if one did (the windows its readings closed before that stay closed and are decided).
    /// </summary>
    private Poison? Ingest(InboundMessage message, CollectingIngestSink sink, bool traced)
    {
        sink.Clear();
        try
        {
            BeforeDecode?.Invoke(message);
            _ingestor.Ingest(message.Topic, message.Payload, message.ReceivedAt, sink, message.Client);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // What the ingestor collected before it threw is not used: the message is dead-lettered whole.
            sink.Clear();
            return new Poison("decode", exception, null);
        }

        foreach (var rejection in sink.Rejections)
        {
            if (rejection.WholeMessage)
            {
                LogRejectedMessage(_logger, rejection.Topic, rejection.Code, rejection.Detail);
            }
            else
            {
                LogRejectedReading(_logger, rejection.Topic, rejection.Code, rejection.Detail, rejection.AssetId, rejection.SensorId);
            }
        }

        var closedBefore = _features.Closed.Count;
        var context = default(System.Diagnostics.ActivityContext);
        if (traced && message.TraceParent is { } traceParent
            && !System.Diagnostics.ActivityContext.TryParse(traceParent, message.TraceState, isRemote: true, out context))
        {
            // A malformed traceparent is ignored, as W3C asks: the message is used, its decision starts a new trace.
            context = default;
        }

        _features.BeginMessage(traced, in context);
        Poison? poison = null;
        string? assetId = null;
        try
        {
            foreach (var reading in sink.Readings)
            {
                // Store-and-forward data from the device belongs to the record, not to a live decision. A sharded site's
                // sessions each receive every reading; each keeps its own shard's assets.
                if (!reading.IsHistorical && _shards.Accepts(message.Shard, reading.AssetId))
                {
                    assetId = reading.AssetId;
                    _features.Add(reading);
                }
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            poison = new Poison("features", exception, assetId);
        }

        for (var w = closedBefore; w < _features.Closed.Count; w++)
        {
            _windowSources.Add(message.Topic);
        }

        return poison;
    }

    /// <summary>
    /// Dead-letters a poisoned message through the ingestor's rejection path (counted as <c>poisoned</c>, sampled to the
    /// dead-letter topic with the stage and the exception), counts it by stage and exception type, and logs it. It is
    /// acknowledged with the rest of its batch afterwards.
    /// </summary>
    private async Task DeadLetter(InboundMessage message, CollectingIngestSink sink, Poison poison, CancellationToken cancellationToken)
    {
        var exceptionType = poison.Exception.GetType().Name;
        _telemetry.PipelinePoisoned.Add(1, new KeyValuePair<string, object?>("stage", poison.Stage), new KeyValuePair<string, object?>("exception", exceptionType));
        LogPoisoned(_logger, poison.Exception, message.Topic, poison.Stage, exceptionType, poison.AssetId);
        var samples = sink.DeadLetters.Count;
        _ingestor.Poisoned(message.Topic, poison.AssetId, $"{poison.Stage}: {poison.Exception.GetType().FullName}: {poison.Exception.Message}",
            message.Payload, message.ReceivedAt, sink);

        // Published by the session that processed it, sharded or not: the failure is this shard's.
        for (var s = samples; s < sink.DeadLetters.Count; s++)
        {
            await _mqtt.TryPublish(sink.DeadLetters[s].Topic, sink.DeadLetters[s].Payload, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce, cancellationToken);
        }
    }

    /// <summary>What a message caused besides decisions: dead-letter samples, rebirth requests, assets gone offline.</summary>
    private async Task Publish(InboundMessage message, CollectingIngestSink sink, CancellationToken cancellationToken)
    {
        // What concerns a message rather than an asset is handled once per site: by shard 0's session when sharded.
        var siteWide = message.Shard <= 0;
        foreach (var sample in siteWide ? sink.DeadLetters : [])
        {
            await _mqtt.TryPublish(sample.Topic, sample.Payload, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce, cancellationToken);
        }

        foreach (var command in siteWide ? sink.Commands : [])
        {
            LogRebirth(_logger, command.GroupId, command.EdgeNodeId, command.Cause);
            await _mqtt.TryPublish(command.Topic, command.Payload, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce, cancellationToken);
        }

        foreach (var offline in sink.Offline)
        {
            if (!_shards.Accepts(message.Shard, offline.AssetId))
            {
                continue;
            }

            LogOffline(_logger, offline.AssetId, offline.Reason);
            await _journal.AppendAsync(offline, offline.EventId, offline.OccurredAt, cancellationToken);
        }
    }

    private async Task Journal(DecisionEvents events, CancellationToken cancellationToken)
    {
        if (events.Prediction is { } prediction)
        {
            await _journal.AppendAsync(prediction, prediction.PredictionId, prediction.OccurredAt, cancellationToken, events.Trace);
            _telemetry.Decisions.Add(1, new KeyValuePair<string, object?>("path", prediction.Provenance.Path.ToString()));
            LogPredicted(_logger, prediction.AssetId, prediction.FailureMode, prediction.HealthState, prediction.Provenance.Path,
                prediction.Provenance.ModelName ?? prediction.Provenance.RulesetName, prediction.Provenance.FallbackReason);
        }

        if (events.Assessment is { } assessment)
        {
            await _journal.AppendAsync(assessment, assessment.AssessmentId, assessment.OccurredAt, cancellationToken, events.Trace);
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
            _telemetry.AcknowledgementsFailed.Add(1);
            LogAcknowledgeFailed(_logger, message.Topic, exception);
        }
    }

    /// <summary>The first stage that threw on a message: <c>decode</c>, <c>features</c>, <c>decide</c> or <c>journal</c>.</summary>
    private sealed record Poison(string Stage, Exception Exception, string? AssetId);

    [LoggerMessage(EventId = 1109, Level = LogLevel.Error, Message = "Feature batch of {Rows} rows dropped: journaling it threw {ExceptionType}: {Error}; decisions go on")]
    private static partial void LogFeatureBatchDropped(ILogger logger, int rows, string exceptionType, string error);

    [LoggerMessage(EventId = 1108, Level = LogLevel.Error, Message = "Poisoned message on {Topic}: the {Stage} stage threw {ExceptionType} (asset {AssetId}); dead-lettered and acknowledged, the pipeline goes on")]
    private static partial void LogPoisoned(ILogger logger, Exception exception, string topic, string stage, string exceptionType, string? assetId);

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
