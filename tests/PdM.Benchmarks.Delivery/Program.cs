using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using MassTransit;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Contracts.Decisions;
using PdM.Contracts.Edge;
using PdM.Contracts.Models;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway;
using PdM.Edge.Gateway.Uplink;
using PdM.Edge.Journal;
using PdM.Messaging;
using PdM.Testing;

// make bench-delivery: the real gateway (in this process) on the real Mosquitto and RabbitMQ, its bus link through a
// loopback proxy. Phases: steady ingest (link up) → outage (link refused, events pile up in the journal) → drain (link
// back, ingest continues, a live alert every ~250 ms). Reports events/s journaled in steady state, backlog entries/s
// delivered during the drain, the live alerts' latency (device publish → FailurePredicted at the broker) during the
// drain, and the reconciliation: every event the journal committed delivered (lost) and none delivered twice (duplicated).
// Then the same again, smaller, with the uplink's bandwidth ceiling (Gateway:Uplink:MaxBytesPerSecond): the bytes the
// broker delivered per second during the throttled drain against the ceiling; it fails when they exceed it by more than
// 10 % or anything is lost.
var inv = CultureInfo.InvariantCulture;
var assets = IntArg("--assets", 300);
var readingHz = IntArg("--reading-hz", 2);
var steadySeconds = IntArg("--steady-seconds", 10);
var outageSeconds = IntArg("--outage-seconds", 30);
var replayRate = IntArg("--replay-rate", 5000);
var ceilingAssets = IntArg("--ceiling-assets", 50);
var ceilingOutageSeconds = IntArg("--ceiling-outage-seconds", 20);
var ceilingBytesPerSecond = IntArg("--ceiling-bps", 150_000);
var ceilingBurst = IntArg("--ceiling-burst", 65_536);

var free = await RunAsync(assets, outageSeconds, ceiling: 0);
Console.WriteLine(string.Create(inv, $"plant: {assets} assets x {readingHz} Hz = {assets * readingHz} readings/s; journal replay rate {replayRate}/s"));
Console.WriteLine(string.Create(inv, $"ingest: {free.IngestPerSecond:0} events/s journaled (higher of {steadySeconds} s steady with the link up and {free.OutageIngestPerSecond:0}/s during the outage)"));
Console.WriteLine(string.Create(inv, $"outage: {outageSeconds} s, backlog at restore {free.BacklogAtRestore} events; uplink reconnected {free.ReconnectSeconds:0.0} s after the link returned"));
Console.WriteLine(string.Create(inv, $"drain: {free.Replayed} replayed events in {free.DrainSeconds:0.00} s = {free.DrainPerSecond:0} events/s (ingest continuing)"));
Console.WriteLine(string.Create(inv, $"live alerts during drain: {free.Alerts} of {free.Probes} probes, p50 {free.P50:0} ms, p99 {free.P99:0} ms"));
Console.WriteLine(string.Create(inv, $"sizing: journal files {free.JournalDiskBytes / 1e6:0.0} MB at restore for the {free.AppendedAtRestore} entries committed so far = {free.DiskBytesPerEvent:0} B per entry on disk; an hour of outage at {free.IngestPerSecond:0} events/s holds {free.IngestPerSecond * 3600 * free.DiskBytesPerEvent / 1e6:0} MB"));
Console.WriteLine(string.Create(inv, $"reconcile: journaled {free.Appended}, delivered distinct {free.DeliveredDistinct}, deliveries {free.Deliveries}, dropped by journal {free.Dropped}"));
Console.WriteLine(string.Create(inv, $"delivery: drain_vs_ingest={free.DrainPerSecond / free.IngestPerSecond:0.0} live_alert_p99_ms_during_drain={free.P99:0} lost={free.Lost} duplicated={free.Duplicated}"));

var held = await RunAsync(ceilingAssets, ceilingOutageSeconds, ceilingBytesPerSecond);
Console.WriteLine(string.Create(inv, $"ceiling run: {ceilingAssets} assets x {readingHz} Hz, live {held.LiveBytesPerSecond:0} B/s at the broker with the link up; outage {ceilingOutageSeconds} s, backlog at restore {held.BacklogAtRestore} events ({held.BacklogBytes / 1e6:0.00} MB delivered as replay)"));
Console.WriteLine(string.Create(inv, $"ceiling drain: {held.Replayed} replayed events in {held.DrainSeconds:0.00} s; {held.DrainBytes} bytes delivered meanwhile (live and replay); busiest 5 s {held.Busiest5sBytesPerSecond:0} B/s; burst {ceilingBurst} B; live alerts {held.Alerts} of {held.Probes} probes, p50 {held.P50:0} ms"));
Console.WriteLine(string.Create(inv, $"ceiling reconcile: journaled {held.Appended}, delivered distinct {held.DeliveredDistinct}, deliveries {held.Deliveries}, dropped by journal {held.Dropped}"));
Console.WriteLine(string.Create(inv, $"ceiling: configured_Bps={ceilingBytesPerSecond} measured_Bps={held.DrainBytesPerSecond:0} live_alert_p99_ms={held.P99:0} lost={held.Lost} duplicated={held.Duplicated}"));

var failures = new List<string>();
if (held.DrainBytesPerSecond > ceilingBytesPerSecond * 1.10)
{
    failures.Add(string.Create(inv, $"the throttled drain delivered {held.DrainBytesPerSecond:0} B/s, more than 10 % over the ceiling of {ceilingBytesPerSecond} B/s"));
}

if (held.Lost > 0 || free.Lost > 0)
{
    failures.Add(string.Create(inv, $"events lost: {free.Lost} without a ceiling, {held.Lost} with"));
}

// Duplicates are reported, not failed: at-least-once delivery sends again what was published but not confirmed when the
// link was cut, under the same message id, and the cloud's inbox drops it.
foreach (var failure in failures)
{
    Console.Error.WriteLine("FAILED: " + failure);
}

return failures.Count == 0 ? 0 : 1;

// One run: steady ingest, an outage, the drain with live alerts, the reconciliation. With a ceiling (bytes/s, 0 for none)
// the gateway's uplink is throttled and the broker side counts the bytes it delivers.
async Task<RunResult> RunAsync(int plantAssets, int outage, int ceiling)
{
    var site = LocalDependencies.UniqueName(ceiling > 0 ? "benchcap" : "bench").Replace('_', '-');
    var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("benchdelivery"));
    var endpoint = RabbitMqEndpoint.Parse(vhost);
    await using var busLink = new LoopbackTcpProxy(endpoint.Host, endpoint.Port);
    var journalFolder = Path.Combine(Path.GetTempPath(), "pdm-bench-delivery", site);

    // Broker side of the cut: every event that reached RabbitMQ, by message id, with arrival time, replay flag and size.
    var deliveries = new ConcurrentDictionary<Guid, int>();
    var replayArrivals = new ConcurrentQueue<long>();
    var liveAlerts = new ConcurrentQueue<(string AssetId, long ArrivedTicks)>();
    var arrivals = new ConcurrentQueue<(long Ticks, int Bytes, bool Replay)>();
    var observer = Bus.Factory.CreateUsingRabbitMq(cfg =>
    {
        cfg.Host(endpoint.Host, endpoint.Port, endpoint.VirtualHost, h => { h.Username(endpoint.Username); h.Password(endpoint.Password); });
        cfg.PrefetchCount = 500;
        cfg.ReceiveEndpoint("bench-observer", e =>
        {
            e.Handler<AssetHealthAssessed>(c => Record(c, c.Message.AssessmentId));
            e.Handler<GatewayHeartbeat>(c => Record(c, Guid.Empty));
            e.Handler<AssetWentOffline>(c => Record(c, Guid.Empty));
            e.Handler<FailurePredicted>(c =>
            {
                if (c.Message.AssetId == "LIVE")
                {
                    liveAlerts.Enqueue((c.Message.AssetId, Stopwatch.GetTimestamp()));
                }

                return Record(c, c.Message.PredictionId);
            });
        });
    });
    await observer.StartAsync();

    List<string> settings =
    [
        "--Urls=http://127.0.0.1:0", "--Messaging:Transport=RabbitMq", $"--Messaging:RabbitMq:Uri={new UriBuilder(vhost) { Port = busLink.Port }.Uri}",
        $"--Gateway:SiteId={site}", $"--Gateway:Mqtt:Host={LocalDependencies.MqttHost}", $"--Gateway:Mqtt:Port={LocalDependencies.MqttPort}",
        $"--Gateway:Mqtt:ClientId=gw-{site}", $"--Gateway:FeatureSpecPath={TestFeatureSpecs.PerReading()}",
        "--Gateway:HealthAssessmentIntervalSeconds=1",
        $"--Gateway:Uplink:MaxBytesPerSecond={ceiling}", $"--Gateway:Uplink:BurstBytes={ceilingBurst}",
        $"--Journal:Path={Path.Combine(journalFolder, "journal.db")}",
        $"--Journal:ReplayRatePerSecond={replayRate}", "--Journal:ReplayBurst=500",
        "--Logging:LogLevel:Default=Warning",
    ];
    settings.AddRange(TestGatewayArguments.Pumps([.. Enumerable.Range(0, plantAssets).Select(a => string.Create(inv, $"A{a}")), "LIVE"]));

    using var journalMetrics = new MetricRecorder(JournalTelemetry.MeterName);
    using var gatewayMetrics = new MetricRecorder(GatewayTelemetry.Name);
    await using var gateway = GatewayApplication.Build([.. settings], b => b.Logging.SetMinimumLevel(LogLevel.Warning));
    await gateway.StartAsync();
    await Eventually.Until(() => Task.FromResult(gatewayMetrics.Total("pdm.mqtt.connections")), n => n > 0, TimeSpan.FromSeconds(30), "gateway subscribed");

    using var plant = new MqttClientFactory().CreateMqttClient();
    using var liveDevice = new MqttClientFactory().CreateMqttClient();
    foreach (var (client, name) in new[] { (plant, "plant"), (liveDevice, "live") })
    {
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(LocalDependencies.MqttHost, LocalDependencies.MqttPort)
            .WithClientId($"{name}-{site}").WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
    }

    // The plant: every asset sends one healthy reading readingHz times a second, paced, for the whole run.
    using var stopPlant = new CancellationTokenSource();
    var plantTask = Task.Run(async () =>
    {
        var tick = TimeSpan.FromSeconds(1.0 / readingHz);
        var next = Stopwatch.GetTimestamp();
        while (!stopPlant.IsCancellationRequested)
        {
            var now = DateTimeOffset.UtcNow;
            for (var a = 0; a < plantAssets; a++)
            {
                await Publish(plant, site, string.Create(inv, $"A{a}"), now, 2.0);
            }

            next += (long)(tick.TotalSeconds * Stopwatch.Frequency);
            var wait = next - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
            }
        }
    });

    // Steady state: events journaled per second with the link up (after a warm-up second), and the bytes they are.
    await Task.Delay(TimeSpan.FromSeconds(2));
    var steadyStart = journalMetrics.Total("pdm.journal.appended");
    var steadyFrom = Stopwatch.GetTimestamp();
    var steadyWatch = Stopwatch.StartNew();
    await Task.Delay(TimeSpan.FromSeconds(steadySeconds));
    var ingestPerSecond = (journalMetrics.Total("pdm.journal.appended") - steadyStart) / steadyWatch.Elapsed.TotalSeconds;
    var steadyTo = Stopwatch.GetTimestamp();
    var liveBytesPerSecond = arrivals.Where(x => x.Ticks >= steadyFrom && x.Ticks < steadyTo).Sum(x => (long)x.Bytes) / steadyWatch.Elapsed.TotalSeconds;

    // Outage: the link is cut and refused; the plant keeps sending, the journal holds the events.
    busLink.Refuse();
    busLink.CutAll();
    await Task.Delay(TimeSpan.FromSeconds(outage));
    var backlogAtRestore = journalMetrics.Total("pdm.journal.appended") - journalMetrics.Total("pdm.journal.acknowledged");
    // For sizing (docs/operations.md): the journal's files on disk (database and WAL) against every entry committed so far.
    var appendedAtRestore = journalMetrics.Total("pdm.journal.appended");
    var journalDiskBytes = Directory.EnumerateFiles(journalFolder).Sum(f => new FileInfo(f).Length);
    var diskBytesPerEvent = journalDiskBytes / (double)appendedAtRestore;

    // The assessment cadence (one per asset per second) beats against the reading rate, so the two phases' rates differ
    // by tens of percent: the ratio uses the higher, which is the conservative choice.
    var outageIngestPerSecond = backlogAtRestore / (double)outage;
    ingestPerSecond = Math.Max(ingestPerSecond, outageIngestPerSecond);

    // Drain: the link is back; live alerts are raised one at a time and timed until the backlog has been replayed.
    busLink.Accept();
    var restoredAt = Stopwatch.GetTimestamp();
    var latenciesMs = new List<double>();
    var liveClock = DateTimeOffset.UtcNow;
    var probes = 0;
    var drainDeadline = DateTime.UtcNow.AddSeconds(ceiling > 0 ? 180 : 90);

    // The drain starts when the uplink has reconnected (its backoff and MassTransit's reconnect are reported apart).
    await Eventually.Until(() => Task.FromResult(replayArrivals.Count), n => n > 0, TimeSpan.FromSeconds(60), "the backlog replay to start");
    while (replayArrivals.Count < backlogAtRestore && DateTime.UtcNow < drainDeadline)
    {
        var before = liveAlerts.Count;
        liveClock = liveClock.AddMilliseconds(10);
        await Publish(liveDevice, site, "LIVE", liveClock, 8.0);
        liveClock = liveClock.AddMilliseconds(10);
        var sent = Stopwatch.GetTimestamp();
        await Publish(liveDevice, site, "LIVE", liveClock, 2.0);
        probes++;
        var waitUntil = DateTime.UtcNow.AddSeconds(60);
        while (liveAlerts.Count <= before)
        {
            if (DateTime.UtcNow > waitUntil)
            {
                throw new TimeoutException("a live alert did not arrive within 60 s");
            }

            await Task.Delay(2);
        }

        var (_, ticks) = liveAlerts.ToArray()[before];
        if (replayArrivals.Count < backlogAtRestore)
        {
            latenciesMs.Add((ticks - sent) * 1000.0 / Stopwatch.Frequency);
        }

        await Task.Delay(20);
    }

    var replays = replayArrivals.ToArray();
    var firstReplay = replays.Length > 0 ? replays.Min() : restoredAt;
    var lastReplay = replays.Length > 0 ? replays.Max() : restoredAt;
    var drainSeconds = Math.Max((lastReplay - firstReplay) / (double)Stopwatch.Frequency, 0.001);
    var drainPerSecond = replays.Length / drainSeconds;
    var reconnectSeconds = (firstReplay - restoredAt) / (double)Stopwatch.Frequency;

    // Bytes the broker delivered during the drain (live and replay alike: the ceiling is on the whole link), and the
    // busiest 5 s within it (the burst included).
    var drained = arrivals.Where(x => x.Ticks >= firstReplay && x.Ticks <= lastReplay).ToArray();
    var drainBytes = drained.Sum(x => (long)x.Bytes);
    var fiveSeconds = 5 * Stopwatch.Frequency;
    var busiest = 0L;
    for (var from = firstReplay; from + fiveSeconds <= lastReplay; from += Stopwatch.Frequency / 4)
    {
        busiest = Math.Max(busiest, drained.Where(x => x.Ticks >= from && x.Ticks < from + fiveSeconds).Sum(x => (long)x.Bytes));
    }

    // Stop the plant, let the journal empty, then reconcile: every committed event delivered once.
    await stopPlant.CancelAsync();
    await plantTask;
    await Eventually.Until(() => Task.FromResult(journalMetrics.Total("pdm.journal.appended") - journalMetrics.Total("pdm.journal.acknowledged")),
        n => n == 0, TimeSpan.FromSeconds(120), "the journal to empty");
    await Eventually.Until(() => Task.FromResult((long)deliveries.Count), n => n >= journalMetrics.Total("pdm.journal.appended"), TimeSpan.FromSeconds(30), "deliveries to arrive");
    await Task.Delay(TimeSpan.FromSeconds(1));
    var appended = journalMetrics.Total("pdm.journal.appended");
    var dropped = journalMetrics.Total("pdm.journal.dropped");
    var lost = Math.Max(0, appended - deliveries.Count) + dropped;
    var duplicated = deliveries.Values.Sum(n => (long)n - 1);
    latenciesMs.Sort();
    var p99 = latenciesMs.Count == 0 ? double.NaN : latenciesMs[Math.Min(latenciesMs.Count - 1, (int)Math.Ceiling(latenciesMs.Count * 0.99) - 1)];
    var p50 = latenciesMs.Count == 0 ? double.NaN : latenciesMs[latenciesMs.Count / 2];
    var backlogBytes = arrivals.Where(x => x.Replay).Sum(x => (long)x.Bytes);

    await gateway.StopAsync();
    await observer.StopAsync();
    try
    {
        Directory.Delete(journalFolder, recursive: true);
    }
    catch (IOException)
    {
    }

    return new RunResult(ingestPerSecond, outageIngestPerSecond, backlogAtRestore, reconnectSeconds, replays.Length, drainSeconds, drainPerSecond,
        latenciesMs.Count, probes, p50, p99, journalDiskBytes, appendedAtRestore, diskBytesPerEvent, appended, deliveries.Count,
        deliveries.Values.Sum(), dropped, lost, duplicated, liveBytesPerSecond, backlogBytes, drainBytes, drainBytes / drainSeconds, busiest / 5.0);

    Task Record<T>(ConsumeContext<T> context, Guid id)
        where T : class
    {
        var replay = context.Headers.TryGetHeader(JournalUplinkService.ReplayHeader, out _);
        var now = Stopwatch.GetTimestamp();
        arrivals.Enqueue((now, context.ReceiveContext.Body.GetBytes().Length, replay));
        if (deliveries.AddOrUpdate(context.MessageId ?? id, 1, (_, n) => n + 1) == 1 && replay)
        {
            replayArrivals.Enqueue(now);
        }

        return Task.CompletedTask;
    }
}

Task Publish(IMqttClient client, string site, string assetId, DateTimeOffset at, double value)
{
    var json = string.Create(inv,
        $$$"""{"schemaVersion":1,"deviceTime":"{{{at:yyyy-MM-ddTHH:mm:ss.fffZ}}}","readings":{"vibration_rms_mm_s":{{{value}}}}}""");
    return client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(TelemetryTopics.Telemetry(site, assetId))
        .WithPayload(Encoding.UTF8.GetBytes(json)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
}

int IntArg(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], inv) : fallback;
}

internal sealed record RunResult(
    double IngestPerSecond,
    double OutageIngestPerSecond,
    long BacklogAtRestore,
    double ReconnectSeconds,
    int Replayed,
    double DrainSeconds,
    double DrainPerSecond,
    int Alerts,
    int Probes,
    double P50,
    double P99,
    long JournalDiskBytes,
    long AppendedAtRestore,
    double DiskBytesPerEvent,
    long Appended,
    int DeliveredDistinct,
    int Deliveries,
    long Dropped,
    long Lost,
    long Duplicated,
    double LiveBytesPerSecond,
    long BacklogBytes,
    long DrainBytes,
    double DrainBytesPerSecond,
    double Busiest5sBytesPerSecond);
