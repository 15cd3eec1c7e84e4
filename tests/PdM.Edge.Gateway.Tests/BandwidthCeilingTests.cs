using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using PdM.Contracts.Decisions;
using PdM.Contracts.Edge;
using PdM.Contracts.Models;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway.Uplink;
using PdM.Edge.Journal;
using PdM.Messaging;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// The uplink's bandwidth ceiling (issue #19 item 3), on the real RabbitMQ: a gateway restarted over a journal full of
/// health assessments (its backlog) with a low <c>Gateway:Uplink:MaxBytesPerSecond</c>. A consumer counts the bytes
/// RabbitMQ hands it: over the drain they stay within the ceiling plus the burst. A live alert raised during the drain
/// overtakes the backlog, feature batches journaled live wait behind the backlog's decisions, and every entry arrives
/// exactly once.
/// </summary>
public sealed class BandwidthCeilingTests
{
    private const int CeilingBytesPerSecond = 16 * 1024;
    private const int BurstBytes = 8 * 1024;
    private const int BacklogAssessments = 80;
    private const int LiveFeatureBatches = 10;

    [Fact]
    public async Task A_throttled_drain_stays_under_the_ceiling_puts_live_alerts_first_feature_batches_last_and_loses_nothing()
    {
        var site = LocalDependencies.UniqueName("ceiling").Replace('_', '-');
        var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("ceiling"));
        var journalPath = Path.Combine(Path.GetTempPath(), "pdm-tests", site, "journal.db");

        // The backlog: health assessments journaled before this gateway (re)started, so replayed.
        var backlogIds = new HashSet<Guid>();
        await using (var journal = EdgeJournal.Open(new JournalOptions { Path = journalPath }))
        {
            for (var i = 0; i < BacklogAssessments; i++)
            {
                var assessment = Assessment(site, i);
                backlogIds.Add(assessment.AssessmentId);
                await journal.AppendAsync(UplinkMessages.ToJournal(assessment, assessment.AssessmentId, assessment.OccurredAt));
            }
        }

        // The cloud: one queue for every type the gateway sends, taken one message at a time so arrival order is queue order.
        var arrivals = new ConcurrentQueue<Arrival>();
        var endpoint = RabbitMqEndpoint.Parse(vhost);
        var cloud = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(endpoint.Host, endpoint.Port, endpoint.VirtualHost, h =>
            {
                h.Username(endpoint.Username);
                h.Password(endpoint.Password);
            });
            cfg.ReceiveEndpoint("ceiling-observer", e =>
            {
                e.ConcurrentMessageLimit = 1;
                // The backlog's assessments, apart from the one the live readings raise.
                e.Handler<AssetHealthAssessed>(c => Record(c, backlogIds.Contains(c.Message.AssessmentId) ? "assessment" : "live-assessment"));
                e.Handler<FailurePredicted>(c => Record(c, "prediction"));
                e.Handler<FeatureWindowsCollected>(c => Record(c, "features"));
                e.Handler<GatewayHeartbeat>(c => Record(c, "heartbeat"));
                e.Handler<AssetWentOffline>(c => Record(c, "offline"));
            });
        });
        await cloud.StartAsync();

        var app = GatewayApplication.Build(
        [
            "--Urls=http://127.0.0.1:0",
            "--Messaging:Transport=RabbitMq",
            $"--Messaging:RabbitMq:Uri={vhost}",
            $"--Gateway:SiteId={site}",
            $"--Gateway:Mqtt:Host={LocalDependencies.MqttHost}",
            $"--Gateway:Mqtt:Port={LocalDependencies.MqttPort}",
            $"--Gateway:Mqtt:ClientId=gw-{site}",
            $"--Gateway:Mqtt:TopicFilters:0=pdm/{site}/+/telemetry",
            "--Gateway:SparkplugHost=false",
            "--Gateway:HeartbeatSeconds=3600",
            $"--Gateway:FeatureSpecPath={TestFeatureSpecs.PerReading()}",
            $"--Gateway:Uplink:MaxBytesPerSecond={CeilingBytesPerSecond}",
            $"--Gateway:Uplink:BurstBytes={BurstBytes}",
            $"--Journal:Path={journalPath}",
            "--AssetModel:Assets:0:Id=P0",
            "--AssetModel:Assets:0:AssetClass=centrifugal-pump",
            "--AssetModel:Assets:0:Sensors:0:Id=vibration_rms_mm_s",
            "--AssetModel:Assets:0:Sensors:0:Unit=mm/s",
            "--AssetModel:Assets:0:Sensors:0:ValidMin=0",
            "--AssetModel:Assets:0:Sensors:0:ValidMax=100",
        ]);
        using var metrics = new MetricRecorder(app.Services.GetRequiredService<IMeterFactory>(), GatewayTelemetry.Name);
        await app.StartAsync();
        try
        {
            await Eventually.Until(() => Task.FromResult(metrics.Total("pdm.mqtt.connections")), n => n > 0, TimeSpan.FromSeconds(30), "gateway MQTT connection");

            // Feature batches journaled live, as the drain starts: bulk for training, the first to wait.
            var features = app.Services.GetRequiredService<EventJournal>();
            var featureIds = new HashSet<Guid>();
            for (var i = 0; i < LiveFeatureBatches; i++)
            {
                var batch = FeatureBatch(site, i);
                featureIds.Add(batch.BatchId);
                await features.AppendAsync(batch, batch.BatchId, batch.OccurredAt, CancellationToken.None);
            }

            // Once the backlog is arriving, the plant raises an alert (a zone-D reading between two healthy ones).
            await Eventually.Until(() => Task.FromResult(arrivals.Count(a => a.Kind == "assessment")), n => n > 0, TimeSpan.FromSeconds(60), "the backlog's replay to start");
            using var device = await GatewayUnderTest.PublishOneZoneDReading(site);

            // Nothing lost: every backlog entry and every feature batch arrives, once, and the journal empties.
            await Eventually.Until(() => Task.FromResult(arrivals.Count(a => a.Kind is "assessment" or "features")), n => n >= BacklogAssessments + LiveFeatureBatches,
                TimeSpan.FromSeconds(120), "the backlog and the feature batches delivered");
            await Eventually.Until(() => Task.FromResult(arrivals.Count(a => a.Kind == "prediction")), n => n >= 1, TimeSpan.FromSeconds(30), "the live alert delivered");
            var journal = app.Services.GetRequiredService<EdgeJournal>();
            await Eventually.Until(() => Task.FromResult(journal.GetStatistics().Count), n => n == 0, TimeSpan.FromSeconds(30), "the journal empty");
            await Task.Delay(TimeSpan.FromSeconds(1));
            var order = arrivals.ToArray();
            Assert.Equal(backlogIds.Order(), order.Where(a => a.Kind == "assessment").Select(a => a.MessageId).Order());
            Assert.Equal(featureIds.Order(), order.Where(a => a.Kind == "features").Select(a => a.MessageId).Order());
            Assert.All(order.Where(a => a.Kind == "assessment"), a => Assert.True(a.Replay, "backlog entries arrive marked as replay"));
            var prediction = Assert.Single(order, a => a.Kind == "prediction");
            Assert.False(prediction.Replay);

            // The bytes RabbitMQ delivered, from the first to the last arrival, stay within the ceiling and its burst
            // (a quarter more for timing between the gateway's clock and this consumer's, plus the largest message).
            var seconds = (order[^1].Ticks - order[0].Ticks) / (double)Stopwatch.Frequency;
            var bytes = order.Sum(a => (long)a.Bytes);
            var allowed = (CeilingBytesPerSecond * seconds * 1.25) + BurstBytes + order.Max(a => a.Bytes);
            Assert.True(bytes <= allowed, string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes arrived in {seconds:0.00} s; the ceiling allows {allowed:0}"));

            // What the gateway counts is what RabbitMQ delivered, backlog apart; and it says it waited for the ceiling.
            Assert.Equal(bytes, metrics.Total("pdm.uplink.bytes"));
            Assert.Equal(order.Where(a => a.Replay).Sum(a => (long)a.Bytes), metrics.Total("pdm.uplink.bytes", "replay", "true"));
            Assert.True(metrics.Sum("pdm.uplink.throttled", "class", "health_assessment") > 0, "waits for the ceiling are counted under the class that waited");
            Assert.True(metrics.Sum("pdm.uplink.throttled", "class", "feature_batch") > 0, "feature batches waited");

            // Live first: the alert raised during the drain arrived with much of the backlog still to come.
            var predictionIndex = Array.IndexOf(order, prediction);
            var backlogAfterAlert = order.Skip(predictionIndex + 1).Count(a => a.Kind == "assessment");
            Assert.True(backlogAfterAlert >= 10, $"the live alert arrived with {backlogAfterAlert} backlog entries still to come");

            // Feature batches last: journaled live before the alert and the backlog's replay, they still waited behind both
            // (at most the last lease's worth of the backlog, published together with the first batch, may land after it).
            var firstFeatures = Array.FindIndex(order, a => a.Kind == "features");
            Assert.True(predictionIndex < firstFeatures, "the alert went before the feature batches");
            var backlogBeforeFeatures = order.Take(firstFeatures).Count(a => a.Kind == "assessment");
            Assert.True(backlogBeforeFeatures >= BacklogAssessments - 10, $"{backlogBeforeFeatures} of {BacklogAssessments} backlog entries went before the first feature batch");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            await cloud.StopAsync();
        }

        Task Record<T>(ConsumeContext<T> context, string kind)
            where T : class
        {
            arrivals.Enqueue(new Arrival(kind, context.MessageId ?? Guid.Empty, context.Headers.TryGetHeader(JournalUplinkService.ReplayHeader, out _),
                context.ReceiveContext.Body.GetBytes().Length, Stopwatch.GetTimestamp()));
            return Task.CompletedTask;
        }
    }

    private static AssetHealthAssessed Assessment(string site, int i)
    {
        var at = DateTimeOffset.UtcNow.AddMinutes(-30).AddSeconds(i);
        return new AssetHealthAssessed
        {
            AssessmentId = Guid.NewGuid(),
            SiteId = site,
            AssetId = "P0",
            AssetClass = "centrifugal-pump",
            HealthState = HealthState.Healthy,
            FailureProbability = 0.01,
            Provenance = new DecisionProvenance { Path = DecisionPath.Rules, GatewayId = $"gw-{site}" },
            WindowStart = at.AddSeconds(-10),
            WindowEnd = at,
            OccurredAt = at,
        };
    }

    private static FeatureWindowsCollected FeatureBatch(string site, int i)
    {
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return new FeatureWindowsCollected
        {
            BatchId = Guid.NewGuid(),
            GatewayId = $"gw-{site}",
            SiteId = site,
            FeatureSpecName = "per-reading",
            FeatureSpecDigest = "sha256:" + new string('0', 64),
            FeatureNames = ["vibration_rms_mm_s", "bearing_temperature_c"],
            Rows = [.. Enumerable.Range(0, 30).Select(r => new FeatureWindowRow
            {
                AssetId = "P0",
                WindowStartUnixMs = start + (r * 1000L),
                WindowEndUnixMs = start + (r * 1000L) + 1000,
                Values = [2.0f + (i * 0.01f) + (r * 0.001f), 61.5f + r],
            })],
            OccurredAt = DateTimeOffset.UtcNow,
        };
    }

    private sealed record Arrival(string Kind, Guid MessageId, bool Replay, int Bytes, long Ticks);
}
