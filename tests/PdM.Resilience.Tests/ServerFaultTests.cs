using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdM.Contracts.Maintenance;
using PdM.Edge.Gateway;
using PdM.Maintenance;
using PdM.Testing;
using Xunit.Abstractions;

namespace PdM.Resilience.Tests;

/// <summary>
/// Every test that kills or restarts a shared server (RabbitMQ, PostgreSQL) or SIGKILLs a gateway, or counts a
/// process-wide meter: one collection, run alone, so no two faults overlap and no other test of this assembly runs
/// while a server is down.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerFaults : ICollectionFixture<FinishedTestVhostsPruned>
{
    public const string Name = "server faults";
}

/// <summary>
/// A restarted broker recovers every vhost it holds before it accepts a connection, and every fixture of the test
/// projects that ran before this one left its vhost behind (a node with 205 took 61 s to start again here, an empty
/// one 6 s). The faults start on brokers without them; this assembly's own, whose process is alive, stay.
/// </summary>
public sealed class FinishedTestVhostsPruned
{
    public FinishedTestVhostsPruned()
    {
        LocalDependencies.RunDepsScript("prune-vhosts");
        LocalDependencies.RunDepsScript("prune-vhosts rabbitmq-cluster");
    }
}

/// <summary>
/// Faults on the real servers while devices keep sending, each reconciled by prediction id (sent → delivered at the
/// broker → stored in the Maintenance inbox → folded into a work order): zero loss and zero duplicate effects.
/// </summary>
[Collection(ServerFaults.Name)]
public sealed class ServerFaultTests(ITestOutputHelper output)
{
    private const int Assets = 6;

    [Fact]
    public async Task RabbitMq_killed_with_sigkill_mid_stream_loses_and_duplicates_nothing()
    {
        await using var rig = await DeliveryRig.StartAsync("rmqkill", Assets);
        await using var gateway = await StartInProcessGateway(rig);
        await rig.PublishRoundAsync();
        await rig.WaitDeliveredAsync(Assets, "round 1 delivered");

        var pid = LocalDependencies.RunDepsScript("pid rabbitmq").Trim();
        try
        {
            // Mid-stream: round 2 is in the gateway's pipeline and uplink when the broker dies; round 3 arrives while it is dead.
            var round2 = rig.PublishRoundAsync();
            await Task.Delay(50);
            UnixSignal.Send(pid, "KILL");
            await round2;
            await rig.PublishRoundAsync();
            await rig.PublishHealthyAsync(5);
        }
        finally
        {
            LocalDependencies.RunDepsScript("start rabbitmq");
        }

        output.WriteLine(await rig.ReconcileAsync(rounds: 3));
        await gateway.StopAsync();
    }

    [Fact]
    public async Task PostgreSql_stopped_and_restarted_mid_stream_loses_and_duplicates_nothing()
    {
        await using var rig = await DeliveryRig.StartAsync("pgrestart", Assets);
        await using var gateway = await StartInProcessGateway(rig);
        await rig.PublishRoundAsync();
        await rig.WaitDeliveredAsync(Assets, "round 1 delivered");

        try
        {
            // Round 2 reaches Maintenance while PostgreSQL is shutting down, round 3 while it is down: its consumer fails,
            // is retried, and must neither lose a prediction (to the error queue) nor apply one twice.
            var stopping = Task.Run(() => LocalDependencies.RunDepsScript("stop postgres"));
            await rig.PublishRoundAsync();
            await stopping;
            Assert.False(await PostgresAnswersAsync(), "PostgreSQL still answers after stop");
            await rig.PublishRoundAsync();
            await rig.WaitDeliveredAsync(Assets * 3, "rounds 2 and 3 at the broker while PostgreSQL is down");
        }
        finally
        {
            LocalDependencies.RunDepsScript("start postgres");
        }

        output.WriteLine(await rig.ReconcileAsync(rounds: 3));
        await gateway.StopAsync();
    }

    [Fact]
    public async Task A_PostgreSql_outage_past_the_retry_window_parks_predictions_in_error_and_redeliver_brings_each_back_once()
    {
        // A transient-retry window of about a second (the shipped one is about 8 minutes): the outage outlasts it.
        await using var rig = await DeliveryRig.StartAsync("pgpark", Assets, cloudExtra:
            ["--Messaging:TransientRetry:Limit=1", "--Messaging:TransientRetry:FirstInterval=00:00:01", "--Messaging:RetryLimit=0"]);
        await using var gateway = await StartInProcessGateway(rig);
        var vhost = PdM.Messaging.RabbitMqEndpoint.Parse(rig.Vhost).VirtualHost;
        await rig.PublishRoundAsync();
        await rig.WaitDeliveredAsync(Assets, "round 1 delivered");
        await Eventually.Until(async () => (await rig.TryGetWorkOrdersAsync())?.Sum(w => w.PredictionCount) ?? -1, folded => folded == Assets,
            TimeSpan.FromSeconds(60), "round 1 folded into work orders before the outage");

        try
        {
            LocalDependencies.RunDepsScript("stop postgres");
            await rig.PublishRoundAsync();
            await rig.WaitDeliveredAsync(Assets * 2, "round 2 at the broker while PostgreSQL is down");
            var parked = await Eventually.Until(() => ErrorQueueMessagesAsync(vhost), n => n == Assets, TimeSpan.FromSeconds(60),
                "round 2's predictions in Maintenance's _error queue (RabbitMQ's own count)");
            output.WriteLine($"parked in _error: {parked}");
        }
        finally
        {
            LocalDependencies.RunDepsScript("start postgres");
        }

        // Nothing comes back by itself: the operator's command does it.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var beforeRedeliver = await Eventually.Until(rig.TryGetWorkOrdersAsync, list => list is not null, TimeSpan.FromSeconds(30), "the work-order API");
        Assert.Equal(Assets, beforeRedeliver!.Sum(w => w.PredictionCount));
        var report = new StringWriter();
        Assert.Equal(0, await PdM.Host.RedeliverCommand.RunAsync([.. rig.CloudSettings], report));
        output.WriteLine(report.ToString());
        Assert.Contains($"_error -> ", report.ToString(), StringComparison.Ordinal);

        output.WriteLine(await rig.ReconcileAsync(rounds: 2));
        // RabbitMQ refreshes its queue metrics every few seconds (collect_statistics_interval): the count catches up.
        await Eventually.Until(() => ErrorQueueMessagesAsync(vhost), n => n == 0, TimeSpan.FromSeconds(30), "Maintenance's _error queue empty");
        await gateway.StopAsync();
    }

    /// <summary>Messages in the vhost's <c>_error</c> queues, as RabbitMQ's own Prometheus endpoint counts them.</summary>
    private static async Task<int> ErrorQueueMessagesAsync(string vhost)
    {
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(
            $"http://{LocalDependencies.RabbitMqPrometheus}/metrics/detailed?vhost={Uri.EscapeDataString(vhost)}&family=queue_coarse_metrics");
        return metrics.Split('\n')
            .Where(l => l.StartsWith("rabbitmq_detailed_queue_messages{", StringComparison.Ordinal) && l.Contains("_error\"}", StringComparison.Ordinal))
            .Sum(l => (int)double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Gateway_killed_with_sigkill_mid_stream_and_restarted_loses_and_duplicates_nothing()
    {
        await using var rig = await DeliveryRig.StartAsync("gwkill", Assets);
        const int Filler = 300;

        using (var first = rig.StartGatewayProcess())
        {
            await first.WaitReadyAsync();

            // Round 1, then healthy readings without pause: the kill lands while the stream flows (the gateway's MQTT
            // in-flight window and its journal uplink both busy), never inside an alert window, whose loss the design
            // accepts (readings are acknowledged once added to a window; only decisions are journaled).
            using var stopStream = new CancellationTokenSource();
            var stream = Task.Run(async () =>
            {
                await rig.PublishRoundAsync();
                while (!stopStream.IsCancellationRequested)
                {
                    await rig.PublishHealthyAsync(1);
                }
            });
            await rig.WaitDeliveredAsync(Assets, "round 1 delivered", 60);
            var sentAtKill = rig.ReadingsSent;
            first.Kill();
            Assert.False(stream.IsCompleted, "the device stopped publishing before the kill");
            await Task.Delay(500);
            await stopStream.CancelAsync();
            await stream;
            output.WriteLine($"gateway SIGKILLed after {sentAtKill} readings; the stream went on to {rig.ReadingsSent}");
        }

        // While the gateway is dead: more than Mosquitto's default 1,000 queued messages for its session.
        await rig.PublishRoundAsync();
        await rig.PublishHealthyAsync(Filler);
        await rig.PublishRoundAsync();
        await rig.PublishHealthyAsync(2);

        using var second = rig.StartGatewayProcess();
        await second.WaitReadyAsync();
        Assert.Contains(second.Output, l => l.Contains("session resumed: True", StringComparison.Ordinal));
        output.WriteLine(await rig.ReconcileAsync(rounds: 3));
    }

    [Fact]
    public async Task A_RabbitMq_memory_alarm_blocks_the_uplink_the_journal_keeps_every_prediction_and_nothing_is_lost_or_duplicated()
    {
        // Every bus (the gateway's, Maintenance's) would restart after 5 s of failing publishes, well inside the alarm. A
        // restart cannot get past an alarm and did harm: the stop could not cancel the consumers on the blocked
        // connection, the start could not open their channels, and Maintenance's queue had no consumer after the alarm
        // (13 predictions never folded; the test hung in the hosts' stop). The watchdog now asks a new channel first.
        using var messaging = new MetricRecorder(PdM.Messaging.StalledPublishWatchdog.MeterName);
        await using var rig = await DeliveryRig.StartAsync("rmqalarm", Assets, stalledPublishRestartAfter: TimeSpan.FromSeconds(5));
        await using var gateway = await StartInProcessGateway(rig);
        var journal = gateway.Services.GetRequiredService<PdM.Edge.Journal.EdgeJournal>();
        await rig.PublishRoundAsync();
        await rig.WaitDeliveredAsync(Assets, "round 1 delivered");

        try
        {
            // The broker's memory alarm blocks every publishing connection (the gateway's, Maintenance's) and keeps them
            // open: unlike a cut link, nothing fails, the publishes just never complete.
            LocalDependencies.RunDepsScript("memory-alarm raise");
            await Eventually.Until(() => RabbitMqAlarmAsync("memory_used_watermark"), value => value == 1, TimeSpan.FromSeconds(30),
                "rabbitmq_alarms_memory_used_watermark 1 on RabbitMQ's Prometheus endpoint");

            await rig.PublishRoundAsync();
            await rig.PublishRoundAsync();
            var held = await Eventually.Until(() => Task.FromResult(journal.GetStatistics()),
                state => state[PdM.Edge.Journal.MessageClass.FailurePrediction].Count >= Assets * 2 && !state.UplinkUp, TimeSpan.FromSeconds(60),
                "rounds 2 and 3 in the gateway's journal and its uplink marked down by the publish timeout");
            output.WriteLine($"during the alarm: {held[PdM.Edge.Journal.MessageClass.FailurePrediction].Count} predictions journaled, uplink down");
            Assert.Equal(Assets, rig.Delivered.Count);

            // Maintenance is blocked the same way: a case closed now writes its outcome event to Maintenance's outbox, and
            // there it waits, not delivered, past the 10 s publish timeout.
            await rig.CloseCaseAsync("P0");
            await Eventually.Until(() => rig.OutboxWaitingAsync(nameof(MaintenanceOutcomeRecorded)),
                row => row.Waiting == 1, TimeSpan.FromSeconds(30), "the outcome event in Maintenance's outbox");
            await Task.Delay(TimeSpan.FromSeconds(12));
            var waiting = await rig.OutboxWaitingAsync(nameof(MaintenanceOutcomeRecorded));
            Assert.Equal(1, waiting.Waiting);
            Assert.Empty(rig.OutcomesDelivered);
            output.WriteLine($"during the alarm: the outcome event waits in Maintenance's outbox after {waiting.Attempts} attempt(s)");
        }
        finally
        {
            LocalDependencies.RunDepsScript("memory-alarm clear");
        }

        await Eventually.Until(() => RabbitMqAlarmAsync("memory_used_watermark"), value => value == 0, TimeSpan.FromSeconds(30),
            "rabbitmq_alarms_memory_used_watermark 0 once the alarm is cleared");
        output.WriteLine(await rig.ReconcileAsync(rounds: 3));
        Assert.Equal(0, messaging.Total("pdm.bus.restarts"));
        // Once the alarm is gone the outcome event leaves Maintenance's outbox: one message (every attempt under one id).
        await Eventually.Until(() => rig.OutboxWaitingAsync(nameof(MaintenanceOutcomeRecorded)), row => row.Waiting == 0, TimeSpan.FromSeconds(90),
            "the outcome event delivered from Maintenance's outbox");
        await Eventually.Until(() => Task.FromResult(rig.OutcomesDelivered.Count), n => n >= 1, TimeSpan.FromSeconds(30), "the outcome event at the observer");
        Assert.Single(rig.OutcomesDelivered);
        output.WriteLine($"after the alarm: the outcome event delivered {rig.OutcomesDelivered.Values.Single()} time(s) under one message id");
        // Only predictions: this rig runs no Telemetry module, so the health assessments stay in the journal as unroutable.
        await Eventually.Until(() => Task.FromResult(journal.GetStatistics()),
            state => state[PdM.Edge.Journal.MessageClass.FailurePrediction].Count == 0 && state.UplinkUp, TimeSpan.FromSeconds(60),
            "every prediction out of the gateway's journal and its uplink up again");
        await gateway.StopAsync();
    }

    /// <summary>One <c>rabbitmq_alarms_*</c> gauge as RabbitMQ's own Prometheus endpoint serves it (what the shipped alert reads).</summary>
    private static async Task<int> RabbitMqAlarmAsync(string alarm)
    {
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync($"http://{LocalDependencies.RabbitMqPrometheus}/metrics");
        var line = metrics.Split('\n').Single(l => l.StartsWith($"rabbitmq_alarms_{alarm} ", StringComparison.Ordinal));
        return int.Parse(line[(line.IndexOf(' ', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Ten_percent_duplicate_deliveries_take_effect_once()
    {
        using var maintenance = new MetricRecorder(MaintenanceTelemetry.MeterName);
        await using var rig = await DeliveryRig.StartAsync("dup", Assets + 4, duplicateFraction: 0.1);
        await using var gateway = await StartInProcessGateway(rig);
        for (var r = 0; r < 3; r++)
        {
            await rig.PublishRoundAsync();
        }

        output.WriteLine(await rig.ReconcileAsync(rounds: 3));
        Assert.Equal(3, rig.DuplicatesInjected);
        Assert.True(maintenance.Total("pdm.maintenance.duplicates_ignored") >= rig.DuplicatesInjected, "Maintenance did not see the duplicates as duplicates");
        await gateway.StopAsync();
    }

    [Fact]
    public async Task A_slow_narrow_bus_link_loses_and_duplicates_nothing()
    {
        await using var rig = await DeliveryRig.StartAsync("slow", Assets);
        await using var gateway = await StartInProcessGateway(rig);
        await rig.PublishRoundAsync();
        await rig.WaitDeliveredAsync(Assets, "round 1 delivered");

        // 150 ms each way and 8 kB/s: publishes and confirms crawl, nothing is cut.
        rig.BusLink.Latency = TimeSpan.FromMilliseconds(150);
        rig.BusLink.BytesPerSecond = 8_000;
        await rig.PublishRoundAsync();
        await rig.PublishRoundAsync();
        await rig.WaitDeliveredAsync(Assets * 3, "predictions over the slow link", 120);
        rig.BusLink.Latency = TimeSpan.Zero;
        rig.BusLink.BytesPerSecond = 0;

        output.WriteLine(await rig.ReconcileAsync(rounds: 3));
        await gateway.StopAsync();
    }

    private static async Task<bool> PostgresAnswersAsync()
    {
        try
        {
            await using var connection = new Npgsql.NpgsqlConnection(LocalDependencies.PostgresAdmin + ";Pooling=false;Timeout=2");
            await connection.OpenAsync();
            return true;
        }
        catch (Exception exception) when (exception is Npgsql.NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return false;
        }
    }

    internal static async Task<Microsoft.AspNetCore.Builder.WebApplication> StartInProcessGateway(DeliveryRig rig)
    {
        using var metrics = new MetricRecorder(GatewayTelemetry.Name);
        var gateway = GatewayApplication.Build([.. rig.GatewaySettings], b =>
        {
            b.Logging.SetMinimumLevel(LogLevel.Warning).AddProvider(rig.GatewayLog);
            // For the rig's record only (the console stays at warnings): MassTransit's connection events and the uplink's.
            b.Logging.AddFilter<LogCapture>("MassTransit", LogLevel.Information).AddFilter<LogCapture>("PdM.Edge.Gateway.Uplink", LogLevel.Information);
        });
        await gateway.StartAsync();
        var journal = gateway.Services.GetRequiredService<PdM.Edge.Journal.EdgeJournal>();
        rig.GatewayJournalState = () =>
        {
            var state = journal.GetStatistics();
            return $"{state.Count} entries ({state.Leased} leased, {state.Backlog} backlog), uplink {(state.UplinkUp ? "up" : "down")}";
        };
        await Eventually.Until(() => Task.FromResult(metrics.Total("pdm.mqtt.connections")), n => n > 0, TimeSpan.FromSeconds(30), "gateway subscribed");
        return gateway;
    }
}
