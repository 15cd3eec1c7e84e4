using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PdM.Edge.Gateway;

/// <summary>
/// The gateway's meter and activity source. Acceptance and rejection by reason are counted where they are decided,
/// in <c>PdM.Edge.Ingestion</c> (<c>pdm.ingest.accepted</c>, <c>pdm.ingest.rejected</c>).
/// </summary>
public sealed class GatewayTelemetry : IDisposable
{
    public const string Name = "PdM.Edge.Gateway";

    private readonly Meter _meter;

    public GatewayTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(Name);
        MessagesReceived = _meter.CreateCounter<long>("pdm.ingest.messages", description: "MQTT messages received.");
        Dropped = _meter.CreateCounter<long>("pdm.ingest.dropped", description: "Messages dropped by the DropNewest backpressure policy.");
        BackpressureEvents = _meter.CreateCounter<long>("pdm.ingest.backpressure", description: "Times the receive handler found the pipeline full, by policy.");
        // Not "pdm.decisions": that is the inference component's counter of every decision, and one Prometheus name for both
        // would mix two meanings under one metric.
        Decisions = _meter.CreateCounter<long>("pdm.predictions.raised", description: "Decisions that raised a prediction (journaled for the cloud), by path.");
        Connections = _meter.CreateCounter<long>("pdm.mqtt.connections", description: "MQTT (re)connections, by outcome.");
        ShardTakeovers = _meter.CreateCounter<long>("pdm.gateway.shard_takeovers", description: "Shard sessions of a dead peer gateway this gateway took over (Gateway:Sharding).");
        MessagesProcessed = _meter.CreateCounter<long>("pdm.ingest.processed", description: "MQTT messages fully processed and acknowledged.");
        // At 0 from the start, so dashboards and alerts see "none yet" rather than "no such metric" on a healthy gateway.
        Dropped.Add(0);
        BackpressureEvents.Add(0);
        Deployments = _meter.CreateCounter<long>("pdm.gateway.deployments",
            description: "Model deployments from the registry by outcome (succeeded, failed, duplicate) and reason (deployed, archived or the refusal code).");
        ReadingAge = _meter.CreateHistogram<double>("pdm.ingest.reading_age", unit: "ms",
            description: "Age of a message's first reading (device time) when the gateway finished with it: how stale decisions are.");
        DecisionLatency = _meter.CreateHistogram<double>("pdm.decision.latency", unit: "ms",
            description: "From the MQTT receipt of the message that closed a window to that window's decision.");
        PubAckWrites = _meter.CreateHistogram<int>("pdm.mqtt.puback_batch", unit: "{packet}",
            description: "PUBACKs written to the broker per socket write (group acknowledgement).");
        IntegrityViolations = _meter.CreateCounter<long>("pdm.gateway.model_integrity_violations",
            description: "Stored model packages refused at load because their bytes are not what the registry approved, by reason and role.");
        UplinkUnroutable = _meter.CreateCounter<long>("pdm.uplink.unroutable", unit: "{event}",
            description: "Journaled events RabbitMQ returned because no queue is bound for their type; kept in the journal and retried, by message_type.");
        UplinkDeadLettered = _meter.CreateCounter<long>("pdm.uplink.dead_lettered", unit: "{event}",
            description: "Journaled events the uplink can never send (payload unreadable, or not serializable), moved to dead-letter/ beside the journal, by message_type.");
        foreach (var messageType in Uplink.UplinkMessages.Names)
        {
            UplinkUnroutable.Add(0, new KeyValuePair<string, object?>("message_type", messageType));
            UplinkDeadLettered.Add(0, new KeyValuePair<string, object?>("message_type", messageType));
        }

        UplinkBytes = _meter.CreateCounter<long>("pdm.uplink.bytes", unit: "By",
            description: "Bytes the uplink published to RabbitMQ (serialized messages as sent, envelope included; confirmed or returned), by journal class and replay (true for backlog).");
        UplinkThrottled = _meter.CreateCounter<double>("pdm.uplink.throttled", unit: "s",
            description: "Time the uplink waited for its bandwidth ceiling (Gateway:Uplink:MaxBytesPerSecond), by the journal class of the entry next in line.");
        foreach (var messageClass in Enum.GetValues<Journal.MessageClass>())
        {
            var tag = new KeyValuePair<string, object?>("class", Journal.MessageClassTag.Of(messageClass));
            UplinkBytes.Add(0, tag, new KeyValuePair<string, object?>("replay", "false"));
            UplinkBytes.Add(0, tag, new KeyValuePair<string, object?>("replay", "true"));
            UplinkThrottled.Add(0, tag);
        }

        PipelinePoisoned = _meter.CreateCounter<long>("pdm.pipeline.poisoned", unit: "{message}",
            description: "Messages a pipeline stage threw on, dead-lettered and acknowledged so the rest go on, by stage (decode, features, decide, journal) and exception type.");
        FeatureBatchesDropped = _meter.CreateCounter<long>("pdm.feature_upload.dropped", unit: "{batch}",
            description: "Feature-upload batches (Gateway:FeatureUpload) that could not be journaled for a reason other than storage and were dropped, by exception type; decisions are unaffected.");
        AcknowledgementsFailed = _meter.CreateCounter<long>("pdm.mqtt.puback_failed",
            description: "Processed messages whose PUBACK could not be sent (connection gone); the broker redelivers them.");
        EgressBlockedCounter = _meter.CreateCounter<long>("pdm.egress.blocked",
            description: "Events the site's data-egress policy (Gateway:Egress) kept on site instead of journaling them for the cloud, by class.");
        foreach (var egressClass in Enum.GetValues<Egress.EgressClass>())
        {
            EgressBlockedCounter.Add(0, new KeyValuePair<string, object?>("class", Egress.EgressPolicy.Tag(egressClass)));
        }

        DecisionsShed = _meter.CreateCounter<long>("pdm.decisions.shed", unit: "{decision}",
            description: "Windows the inference budget left to the rules while the gateway was behind (Gateway:Shedding), by reason: every_kth_window (level 1), healthy_to_rules (level 2).");
        foreach (var reason in Enum.GetValues<Shedding.ShedReason>())
        {
            DecisionsShed.Add(0, new KeyValuePair<string, object?>("reason", Shedding.InferenceBudget.Tag(reason)));
        }

        PubAckFlushesFailed = _meter.CreateCounter<long>("pdm.mqtt.puback_flush_failed",
            description: "Flushes of held PUBACKs that failed with the connection; the broker redelivers those messages.");
    }

    public static ActivitySource ActivitySource { get; } = new(Name);

    public Counter<long> MessagesReceived { get; }

    public Counter<long> Dropped { get; }

    public Counter<long> BackpressureEvents { get; }

    public Counter<long> Decisions { get; }

    public Counter<long> Connections { get; }

    public Counter<long> ShardTakeovers { get; }

    public Counter<long> MessagesProcessed { get; }

    public Histogram<double> ReadingAge { get; }

    public Histogram<double> DecisionLatency { get; }

    public Counter<long> Deployments { get; }

    public Histogram<int> PubAckWrites { get; }

    public Counter<long> PubAckFlushesFailed { get; }

    public Counter<long> AcknowledgementsFailed { get; }

    public Counter<long> IntegrityViolations { get; }

    public Counter<long> EgressBlockedCounter { get; }

    public void EgressBlocked(Egress.EgressClass egressClass) =>
        EgressBlockedCounter.Add(1, new KeyValuePair<string, object?>("class", Egress.EgressPolicy.Tag(egressClass)));

    public Counter<long> DecisionsShed { get; }

    public void DecisionShed(Shedding.ShedReason reason) =>
        DecisionsShed.Add(1, new KeyValuePair<string, object?>("reason", Shedding.InferenceBudget.Tag(reason)));

    /// <summary>The inference budget's gauges: shedding level, pipeline lag and the share of time spent deciding.</summary>
    public void ObserveShedding(Func<int> level, Func<double> lagMs, Func<double> scoringShare)
    {
        ArgumentNullException.ThrowIfNull(level);
        ArgumentNullException.ThrowIfNull(lagMs);
        ArgumentNullException.ThrowIfNull(scoringShare);
        _meter.CreateObservableGauge("pdm.shedding.level", level, null,
            "The inference budget's shedding level: 0 none, 1 healthy assets scored every k-th window, 2 healthy assets left to the rules.");
        _meter.CreateObservableGauge("pdm.pipeline.lag", lagMs, "ms",
            "Age of the oldest MQTT message the pipeline has not finished with, at the last evaluation of the inference budget.");
        _meter.CreateObservableGauge("pdm.shedding.scoring_share", scoringShare, null,
            "Share of the last evaluation interval the pipeline spent deciding windows (model runs and rules), against Gateway:Shedding:ScoringBudget; a decision call longer than the interval counts whole in the interval it ended in, so it can read above 1.");
    }

    public Counter<long> UplinkUnroutable { get; }

    public Counter<long> UplinkDeadLettered { get; }

    public Counter<long> PipelinePoisoned { get; }

    public Counter<long> FeatureBatchesDropped { get; }

    public Counter<long> UplinkBytes { get; }

    public Counter<double> UplinkThrottled { get; }

    public void UplinkSent(Journal.MessageClass messageClass, bool replay, long bytes) =>
        UplinkBytes.Add(bytes, new KeyValuePair<string, object?>("class", Journal.MessageClassTag.Of(messageClass)),
            new KeyValuePair<string, object?>("replay", replay ? "true" : "false"));

    public void UplinkWaited(Journal.MessageClass messageClass, TimeSpan waited) =>
        UplinkThrottled.Add(waited.TotalSeconds, new KeyValuePair<string, object?>("class", Journal.MessageClassTag.Of(messageClass)));

    /// <summary>The configured ceiling (<c>Gateway:Uplink</c>), to read <c>pdm.uplink.bytes</c> against; no series without one.</summary>
    public void ObserveUplinkCeiling(Uplink.UplinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.IsLimited)
        {
            _meter.CreateObservableGauge("pdm.uplink.ceiling", () => options.MaxBytesPerSecond, "By/s",
                "The uplink's bandwidth ceiling (Gateway:Uplink:MaxBytesPerSecond); absent when there is none.");
            _meter.CreateObservableGauge("pdm.uplink.ceiling_burst", () => options.BurstBytes, "By",
                "What the uplink may send at once after a quiet spell (Gateway:Uplink:BurstBytes); absent without a ceiling.");
        }
    }

    /// <summary>
    /// The machine gauges, read from the latest heartbeat (<paramref name="latest"/>): the same figures the cloud keeps.
    /// A figure the heartbeat lacks (no /proc, no GPU) is not reported at all rather than as 0.
    /// </summary>
    public void ObserveMachine(Func<PdM.Contracts.Edge.GatewayHeartbeat?> latest)
    {
        ArgumentNullException.ThrowIfNull(latest);
        _meter.CreateObservableGauge("pdm.gateway.cpu", () => Cpu(latest()), "%", "CPU used over the last heartbeat interval, by scope (process: the gateway; host: the machine), 0-100 % of all cores.");
        _meter.CreateObservableGauge("pdm.gateway.memory", () => Memory(latest()), "By", "Memory by kind: process_working_set, host_total, host_available.");
        _meter.CreateObservableGauge("pdm.gateway.disk_free", () => Disks(latest()), "By", "Free space of the file system holding the journal and the model store, by purpose.");
        _meter.CreateObservableGauge("pdm.gpu.utilization", () => Gpus(latest(), g => g.UtilizationPercent), "%", "NVIDIA GPU utilisation (nvidia-smi), by gpu; absent without a GPU.");
        _meter.CreateObservableGauge("pdm.gpu.memory_used", () => Gpus(latest(), g => g.MemoryUsedBytes), "By", "NVIDIA GPU memory used, by gpu.");
        _meter.CreateObservableGauge("pdm.gpu.temperature", () => Gpus(latest(), g => g.TemperatureC), "Cel", "NVIDIA GPU temperature, by gpu.");
        _meter.CreateObservableGauge("pdm.gpu.power_draw", () => Gpus(latest(), g => g.PowerDrawWatts), "W", "NVIDIA GPU power draw, by gpu (read against pdm.gpu.power_limit).");
        _meter.CreateObservableGauge("pdm.gpu.power_limit", () => Gpus(latest(), g => g.PowerLimitWatts), "W", "NVIDIA GPU enforced power cap, by gpu.");
    }

    private static IEnumerable<Measurement<double>> Cpu(PdM.Contracts.Edge.GatewayHeartbeat? heartbeat)
    {
        if (heartbeat is null)
        {
            yield break;
        }

        yield return new(heartbeat.Host.ProcessCpuPercent, new KeyValuePair<string, object?>("scope", "process"));
        if (heartbeat.Host.HostCpuPercent is { } host)
        {
            yield return new(host, new KeyValuePair<string, object?>("scope", "host"));
        }
    }

    private static IEnumerable<Measurement<long>> Memory(PdM.Contracts.Edge.GatewayHeartbeat? heartbeat)
    {
        if (heartbeat is null)
        {
            yield break;
        }

        yield return new(heartbeat.Host.ProcessWorkingSetBytes, new KeyValuePair<string, object?>("kind", "process_working_set"));
        if (heartbeat.Host.HostMemoryTotalBytes is { } total)
        {
            yield return new(total, new KeyValuePair<string, object?>("kind", "host_total"));
        }

        if (heartbeat.Host.HostMemoryAvailableBytes is { } available)
        {
            yield return new(available, new KeyValuePair<string, object?>("kind", "host_available"));
        }
    }

    private static IEnumerable<Measurement<long>> Disks(PdM.Contracts.Edge.GatewayHeartbeat? heartbeat) =>
        heartbeat is null ? [] : heartbeat.Disks.Select(d => new Measurement<long>(d.FreeBytes, new KeyValuePair<string, object?>("purpose", d.Purpose)));

    private static IEnumerable<Measurement<double>> Gpus(PdM.Contracts.Edge.GatewayHeartbeat? heartbeat, Func<PdM.Contracts.Edge.GatewayGpuStatus, double?> figure)
    {
        foreach (var gpu in heartbeat?.Gpus ?? [])
        {
            if (figure(gpu) is { } value)
            {
                yield return new(value, new KeyValuePair<string, object?>("gpu", gpu.Index), new KeyValuePair<string, object?>("name", gpu.Name));
            }
        }
    }

    public void Deployment(string outcome, string reason) =>
        Deployments.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();
}
