using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Contracts.Decisions;
using PdM.Contracts.Telemetry;
using PdM.Edge.Journal;
using PdM.Messaging;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// A stalled publish, on the real RabbitMQ: the gateway's link to the broker goes through a <see cref="LoopbackTcpProxy"/>
/// that holds it (connections stay open, no reset, no bytes move either way) while predictions are being published.
/// The publishes cannot complete within the uplink's shipped 10 s bound (<c>JournalUplinkService.PublishTimeout</c>,
/// not configurable), so the uplink reports itself down and keeps the entries in the journal; once the link flows
/// again every prediction reaches the consumer, each delivery under its prediction's id as message id, so a consumer's
/// inbox recognises the copy a stalled attempt may still deliver beside the retry.
/// </summary>
public sealed class UplinkStallTests
{
    private const int Assets = 4;

    [Fact]
    public async Task A_publish_stalled_past_its_timeout_marks_the_uplink_down_and_every_prediction_arrives_under_its_own_id_once_the_link_flows()
    {
        var site = LocalDependencies.UniqueName("stall").Replace('_', '-');
        var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("stall"));
        var endpoint = RabbitMqEndpoint.Parse(vhost);
        await using var busLink = new LoopbackTcpProxy(endpoint.Host, endpoint.Port);

        // Every delivery as the cloud's consumer receives it, on the broker's side of the stall: (prediction, message id).
        var delivered = new ConcurrentQueue<(Guid PredictionId, Guid? MessageId)>();
        var consumer = TestBus.Create(vhost, cfg => cfg.ReceiveEndpoint("stall-consumer", e => e.Handler<FailurePredicted>(context =>
        {
            delivered.Enqueue((context.Message.PredictionId, context.MessageId));
            return Task.CompletedTask;
        })));
        await consumer.StartAsync();

        var logs = new LogCapture();
        var app = GatewayApplication.Build(
            [
                .. TestGatewayArguments.For(site, new UriBuilder(vhost) { Port = busLink.Port }.Uri),
                $"--Gateway:Mqtt:TopicFilters:0=pdm/{site}/+/telemetry",
                "--Gateway:SparkplugHost=false",
                .. TestGatewayArguments.Pumps(Assets),
            ],
            builder => builder.Logging.AddProvider(logs));
        using var metrics = new MetricRecorder(app.Services.GetRequiredService<IMeterFactory>(), GatewayTelemetry.Name);
        var journal = app.Services.GetRequiredService<EdgeJournal>();
        await app.StartAsync();
        try
        {
            await Eventually.Until(() => Task.FromResult(metrics.Total("pdm.mqtt.connections")), n => n > 0, TimeSpan.FromSeconds(30), "gateway MQTT connection");
            using var device = await GatewayUnderTest.ConnectClient($"dev-{site}", LocalDependencies.MqttPort);
            var clock = DateTimeOffset.UtcNow.AddMinutes(-5);
            var published = 0;

            // A healthy, a zone-D and a healthy window per asset: one prediction per asset per round.
            async Task Round()
            {
                foreach (var value in new[] { 2.0, 8.0, 2.0 })
                {
                    for (var a = 0; a < Assets; a++)
                    {
                        clock = clock.AddMilliseconds(10);
                        await GatewayUnderTest.PublishVibration(device, site, $"P{a}", clock, value);
                        published++;
                    }
                }

                await Eventually.Until(() => Task.FromResult(metrics.Total("pdm.ingest.processed")), n => n >= published, TimeSpan.FromSeconds(30), "the round processed");
            }

            // The link works: the first round arrives and the uplink is up.
            await Round();
            await Eventually.Until(() => Task.FromResult(delivered.Select(d => d.PredictionId).Distinct().Count()), n => n == Assets, TimeSpan.FromSeconds(30),
                "the first round delivered");
            Assert.True(journal.IsUplinkUp, "the uplink is up before the stall");

            // The link stalls, without a reset: the second round's publishes are written into it and never confirmed.
            busLink.Hold();
            await Round();
            await Eventually.Until(() => Task.FromResult(!journal.IsUplinkUp && logs.Contains("Uplink down", "kept in the journal")), down => down,
                TimeSpan.FromSeconds(30), "the uplink reported down after the publish timeout");
            Assert.Equal(Assets, delivered.Select(d => d.PredictionId).Distinct().Count());
            Assert.Equal(Assets, journal.GetStatistics()[MessageClass.FailurePrediction].Count);
            Assert.True(busLink.ActiveConnections > 0, "the link was held open, not cut");

            // The link flows again: every prediction arrives, the journal empties and the uplink is up again.
            busLink.ReleaseHold();
            await Eventually.Until(() => Task.FromResult(delivered.Select(d => d.PredictionId).Distinct().Count()), n => n == 2 * Assets, TimeSpan.FromSeconds(30),
                "every prediction delivered once the link flows");
            await Eventually.Until(() => Task.FromResult(journal.GetStatistics()[MessageClass.FailurePrediction].Count), n => n == 0, TimeSpan.FromSeconds(30),
                "the delivered predictions acknowledged out of the journal");
            Assert.True(journal.IsUplinkUp, "the uplink is up again");

            // Whichever attempt arrived (the stalled one, the retry, or both), it carried the prediction's id as message id.
            Assert.All(delivered, d => Assert.Equal(d.PredictionId, d.MessageId));
        }
        finally
        {
            await consumer.StopAsync();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
