using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Contracts.Decisions;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway;
using PdM.Host;
using PdM.Maintenance.Api;
using PdM.Messaging;
using PdM.Testing;

namespace PdM.Resilience.Tests;

/// <summary>
/// The gateway's link to RabbitMQ is cut (a loopback TCP proxy resets it and refuses reconnects) while devices keep
/// sending. Every prediction raised during the outage must be journaled, reach Maintenance once the link is back,
/// and take effect exactly once. Reconciled by prediction id: sent (by construction) vs delivered (a bus observer on
/// the broker side of the cut) vs effective (work-order prediction counts in PostgreSQL).
/// </summary>
public sealed class UplinkOutageTests
{
    private const int Assets = 8;
    private const int Rounds = 3;
    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    [Fact]
    public async Task Predictions_raised_while_the_bus_link_is_cut_are_delivered_once_after_it_returns()
    {
        var site = LocalDependencies.UniqueName("out").Replace('_', '-');
        await using var database = await TestDatabase.CreateAsync("outage");
        var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("outage"));
        var endpoint = RabbitMqEndpoint.Parse(vhost);
        await using var busLink = new LoopbackTcpProxy(endpoint.Host, endpoint.Port);
        var gatewayVhost = new UriBuilder(vhost) { Port = busLink.Port }.Uri;

        string[] cloudSettings =
        [
            $"--ConnectionStrings:Postgres={database.ConnectionString}", "--Messaging:Transport=RabbitMq",
            $"--Messaging:RabbitMq:Uri={vhost}", "--Urls=http://127.0.0.1:0", "--PdM:Modules=Maintenance", .. TestTokenIssuer.Shared.Arguments,
        ];
        Assert.Equal(0, await MigrateCommand.RunAsync(cloudSettings));
        await using var cloud = HostComposition.Build(cloudSettings);
        await cloud.StartAsync();
        using var api = TestTokenIssuer.Shared.AdminClient(ListeningAddress.Of(cloud));

        // Delivered: every FailurePredicted that reached the broker, by message id, counted.
        var delivered = new ConcurrentDictionary<Guid, int>();
        var observer = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(endpoint.Host, endpoint.Port, endpoint.VirtualHost, h => { h.Username(endpoint.Username); h.Password(endpoint.Password); });
            cfg.ReceiveEndpoint("resilience-observer", e => e.Handler<FailurePredicted>(c =>
            {
                delivered.AddOrUpdate(c.Message.PredictionId, 1, (_, n) => n + 1);
                return Task.CompletedTask;
            }));
        });
        await observer.StartAsync();

        using var metrics = new MetricRecorder(GatewayTelemetry.Name);
        var logs = new LogCapture();
        List<string> gatewaySettings = [.. TestGatewayArguments.For(site, gatewayVhost), .. TestGatewayArguments.Pumps(Assets)];

        await using var gateway = GatewayApplication.Build([.. gatewaySettings], b => b.Logging.AddProvider(logs));
        await gateway.StartAsync();
        await Eventually.Until(() => Task.FromResult(metrics.Total("pdm.mqtt.connections")), n => n > 0, TimeSpan.FromSeconds(30), "gateway subscribed");

        using var device = new MqttClientFactory().CreateMqttClient();
        await device.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(LocalDependencies.MqttHost, LocalDependencies.MqttPort)
            .WithClientId($"dev-{site}").WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
        var clock = DateTimeOffset.UtcNow.AddMinutes(-5);
        var published = 0;

        // Each round closes a healthy window and then a zone-D window per asset: one prediction per asset per round.
        async Task Round()
        {
            foreach (var value in new[] { 2.0, 8.0, 2.0 })
            {
                for (var a = 0; a < Assets; a++)
                {
                    clock = clock.AddMilliseconds(10);
                    var json = $$$"""{"schemaVersion":1,"deviceTime":"{{{clock:yyyy-MM-ddTHH:mm:ss.fffZ}}}","readings":{"vibration_rms_mm_s":{{{value.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}}}""";
                    await device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(TelemetryTopics.Telemetry(site, $"P{a}"))
                        .WithPayload(Encoding.UTF8.GetBytes(json)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                    published++;
                }
            }

            await Eventually.Until(() => Task.FromResult(metrics.Total("pdm.ingest.processed")), n => n >= published, TimeSpan.FromSeconds(60), "the gateway to process the round");
        }

        await Round();
        await Eventually.Until(() => Task.FromResult(delivered.Count), n => n == Assets, TimeSpan.FromSeconds(60), "round 1 delivered");

        // Cut the gateway's bus link and keep it down: rounds 2 and 3 are decided, journaled and acknowledged to MQTT.
        busLink.Refuse();
        busLink.CutAll();
        await Round();
        await Round();
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.True(delivered.Count < Assets * Rounds, "predictions reached the broker although the link was cut");

        busLink.Accept();
        await Eventually.Until(() => Task.FromResult(delivered.Count), n => n == Assets * Rounds, TimeSpan.FromSeconds(90), "every prediction delivered after the link returned");

        // Effective exactly once: each asset's work order folded exactly its three predictions.
        var workOrders = await Eventually.Until(
            async () => await api.GetFromJsonAsync<List<WorkOrderResponse>>("/api/work-orders?limit=500", ApiJson) ?? [],
            list => list.Count == Assets && list.All(w => w.PredictionCount == Rounds), TimeSpan.FromSeconds(60),
            "one work order per asset with every prediction folded once");
        Assert.All(workOrders, w => Assert.Equal(Rounds, w.PredictionCount));
        Assert.Equal(Assets * Rounds, delivered.Count);

        await observer.StopAsync();
        await gateway.StopAsync();
        await cloud.StopAsync();
    }
}
