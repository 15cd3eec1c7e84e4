using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MQTTnet;
using PdM.Contracts.Decisions;
using PdM.Contracts.Telemetry;
using PdM.Edge.Journal;
using PdM.Messaging;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// Nothing confirmed and dropped (issue #16 item 3), on the real RabbitMQ: a prediction published while no queue is
/// bound to its exchange (the cloud's consumer has never started) is returned by the broker instead of confirmed and
/// discarded, so it stays in the gateway's journal, is counted and logged, and reaches the consumer once its queue
/// appears.
/// </summary>
public sealed class UnroutableUplinkTests
{
    [Fact]
    public async Task A_prediction_with_no_queue_bound_stays_in_the_journal_and_is_delivered_once_the_queue_appears()
    {
        var site = LocalDependencies.UniqueName("unroutable").Replace('_', '-');
        var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("unroutable"));
        var logs = new LogCapture();
        var app = GatewayApplication.Build(
            [
                .. TestGatewayArguments.For(site, vhost),
                $"--Gateway:Mqtt:TopicFilters:0=pdm/{site}/+/telemetry",
                "--Gateway:SparkplugHost=false",
                .. TestGatewayArguments.Pumps(1),
            ],
            builder => builder.Logging.AddProvider(logs));
        using var metrics = new MetricRecorder(app.Services.GetRequiredService<IMeterFactory>(), GatewayTelemetry.Name);
        var journal = app.Services.GetRequiredService<EdgeJournal>();
        IBusControl? consumer = null;
        await app.StartAsync();
        try
        {
            await Eventually.Until(() => Task.FromResult(metrics.Total("pdm.mqtt.connections")), n => n > 0, TimeSpan.FromSeconds(30), "gateway MQTT connection");

            // A healthy, a zone-D and a healthy reading: exactly one prediction, journaled and published.
            using var device = await GatewayUnderTest.PublishOneZoneDReading(site);

            // Returned by the broker, more than once (retried), counted under its type, and still in the journal.
            await Eventually.Until(() => Task.FromResult(metrics.Total("pdm.uplink.unroutable", "message_type", nameof(FailurePredicted))),
                n => n >= 2, TimeSpan.FromSeconds(60), "the prediction returned unroutable and retried");
            Assert.Equal(1, journal.GetStatistics()[MessageClass.FailurePrediction].Count);
            Assert.True(logs.Contains("returned", nameof(FailurePredicted), "unroutable", "kept in the journal"), "the return is logged");

            // The cloud's consumer starts: its queue is bound to the exchange, and the kept prediction reaches it.
            var received = new ConcurrentQueue<FailurePredicted>();
            var endpoint = RabbitMqEndpoint.Parse(vhost);
            consumer = Bus.Factory.CreateUsingRabbitMq(cfg =>
            {
                cfg.Host(endpoint.Host, endpoint.Port, endpoint.VirtualHost, h =>
                {
                    h.Username(endpoint.Username);
                    h.Password(endpoint.Password);
                });
                cfg.ReceiveEndpoint("late-consumer", e => e.Handler<FailurePredicted>(context =>
                {
                    received.Enqueue(context.Message);
                    return Task.CompletedTask;
                }));
            });
            await consumer.StartAsync();

            await Eventually.Until(() => Task.FromResult(received.Count), n => n >= 1, TimeSpan.FromSeconds(60), "the kept prediction delivered to the late consumer");
            var prediction = Assert.Single(received);
            Assert.Equal("P0", prediction.AssetId);
            await Eventually.Until(() => Task.FromResult(journal.GetStatistics()[MessageClass.FailurePrediction].Count), n => n == 0,
                TimeSpan.FromSeconds(30), "the delivered prediction acknowledged out of the journal");
            Assert.True(logs.Contains(nameof(FailurePredicted), "routed again"), "the recovery is logged");
        }
        finally
        {
            if (consumer is not null)
            {
                await consumer.StopAsync();
            }

            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
