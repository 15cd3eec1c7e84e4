using System.Globalization;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// Group acknowledgement against the real Mosquitto: a burst's PUBACKs leave in shared socket writes, and every one of
/// them reaches the broker without waiting for a disconnect, so a gateway that then dies has nothing redelivered; a
/// connection reset while PUBACKs are held loses no message (the broker redelivers them to the resumed session).
/// </summary>
public sealed class PubAckCoalescingTests
{
    private const string Asset = "PUMP-ACK";
    private const int Burst = 3_000;

    [Fact]
    public async Task A_burst_is_acknowledged_in_groups_and_the_broker_holds_nothing_once_the_gateway_is_idle()
    {
        var site = LocalDependencies.UniqueName("ack").Replace('_', '-');
        var gatewayClientId = $"gw-{site}";
        var gateway = await GatewayUnderTest.StartAsync(site, Settings(site));
        try
        {
            // Published faster than one pipeline processes: the gateway always has messages waiting, which is when
            // PUBACKs are held and grouped.
            await PublishBurst(site, Burst);

            await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.ingest.processed")), n => n >= Burst,
                TimeSpan.FromSeconds(60), "the burst processed");
            Assert.Equal(Burst, gateway.Metrics.Total("pdm.ingest.processed"));
            Assert.Equal(Burst, gateway.Metrics.Total("pdm.ingest.accepted"));

            // Grouping happened: some socket write carried more than one PUBACK, and none carried more than the batch.
            Assert.InRange(gateway.Metrics.Max("pdm.mqtt.puback_batch"), 2, 64);

            // The pipeline is idle, so every held PUBACK has been flushed. Kill the gateway's connection the hard way
            // (no DISCONNECT, no flush on the way out) and keep it away from the broker.
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            gateway.BrokerProxy.Refuse();
            gateway.BrokerProxy.CutAll();
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        // Resuming the gateway's persistent session shows what the broker still held for it: nothing.
        Assert.Equal(0, await RedeliveredOnResume(gatewayClientId));
    }

    [Fact]
    public async Task A_connection_cut_while_acknowledgements_are_held_loses_nothing()
    {
        const int Messages = 6_000;
        var site = LocalDependencies.UniqueName("ackcut").Replace('_', '-');
        var gateway = await GatewayUnderTest.StartAsync(site, Settings(site));
        try
        {
            var publishing = PublishBurst(site, Messages);

            // Mid-burst, with PUBACKs held for messages already processed, the connection is reset under the gateway
            // and refused for a moment; the held PUBACKs die with it.
            await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.ingest.processed")), n => n >= 500,
                TimeSpan.FromSeconds(60), "the burst under way");
            gateway.BrokerProxy.Refuse();
            gateway.BrokerProxy.CutAll();
            await Task.Delay(TimeSpan.FromSeconds(1));
            gateway.BrokerProxy.Accept();
            await publishing;

            // The resumed session redelivers what was not acknowledged. Redelivered messages are processed again
            // (at-least-once), so the count passes 6,000 before the backlog is through: wait until it stops moving.
            await UntilQuiet(gateway, atLeast: Messages);
            Assert.True(gateway.Metrics.Total("pdm.ingest.accepted") >= Messages);
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        // The gateway acknowledges a message only after processing it, and the broker forgets a QoS 1 message only
        // when acknowledged: an empty session means every one of the 6,000 was processed.
        Assert.Equal(0, await RedeliveredOnResume($"gw-{site}"));
    }

    /// <summary>
    /// Waits until the gateway is back on its resumed session, has processed at least <paramref name="atLeast"/>, and
    /// then nothing more for 3 s (a gateway still reconnecting is quiet too, hence the first condition).
    /// </summary>
    private static async Task UntilQuiet(GatewayUnderTest gateway, long atLeast)
    {
        bool resumed() => gateway.Metrics.Total("pdm.mqtt.connections", "outcome", "resumed") >= 1;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        var last = -1L;
        var quietSince = DateTime.UtcNow;
        while (DateTime.UtcNow < deadline)
        {
            var processed = gateway.Metrics.Total("pdm.ingest.processed");
            if (processed != last)
            {
                last = processed;
                quietSince = DateTime.UtcNow;
            }
            else if (processed >= atLeast && resumed() && DateTime.UtcNow - quietSince >= TimeSpan.FromSeconds(3))
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        Assert.Fail($"the gateway did not settle after the reconnect: {last} processed, at least {atLeast} expected");
    }

    private static IEnumerable<string> Settings(string site) =>
    [
        $"--AssetModel:Assets:0:Id={Asset}",
        "--AssetModel:Assets:0:AssetClass=centrifugal-pump",
        "--AssetModel:Assets:0:Sensors:0:Id=vibration_rms_mm_s",
        "--AssetModel:Assets:0:Sensors:0:Unit=mm/s",
        "--AssetModel:Assets:0:Sensors:0:ValidMin=0",
        "--AssetModel:Assets:0:Sensors:0:ValidMax=100",
        "--Ingestion:MaxPastAge=1.00:00:00",
        $"--Gateway:Mqtt:TopicFilters:0=pdm/{site}/+/telemetry",
        "--Gateway:SparkplugHost=false",
    ];

    private static async Task PublishBurst(string site, int count)
    {
        // The device's own keep-alive ping queues behind thousands of publishes; on a loaded machine the 2 s default
        // of the test clients timed it out and the device, not the gateway under test, dropped its connection.
        using var device = await GatewayUnderTest.ConnectClient($"dev-{site}", LocalDependencies.MqttPort,
            options => options.WithKeepAlivePeriod(TimeSpan.FromSeconds(60)));
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        var sends = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            sends.Add(device.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic($"pdm/{site}/{Asset}/telemetry")
                .WithPayload(Payload(start.AddMilliseconds(i * 100), 1 + (i % 7)))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build()));
        }

        await Task.WhenAll(sends);
    }

    /// <summary>Resumes a stopped gateway's session and counts what the broker still held for it, then deletes it.</summary>
    private static async Task<int> RedeliveredOnResume(string clientId)
    {
        var redelivered = 0;
        using var resumed = new MqttClientFactory().CreateMqttClient();
        resumed.ApplicationMessageReceivedAsync += _ =>
        {
            Interlocked.Increment(ref redelivered);
            return Task.CompletedTask;
        };
        var connect = await resumed.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer(LocalDependencies.MqttHost, LocalDependencies.MqttPort)
            .WithClientId(clientId)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithCleanStart(false)
            .WithSessionExpiryInterval(60)
            .Build());
        Assert.True(connect.IsSessionPresent, "the gateway's session should still be on the broker");
        await Task.Delay(TimeSpan.FromSeconds(2));

        // Leave no session behind on the shared broker.
        await resumed.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithSessionExpiryInterval(0).Build());
        return Volatile.Read(ref redelivered);
    }

    private static byte[] Payload(DateTimeOffset deviceTime, int value) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $"{{\"schemaVersion\":1,\"asset\":\"{Asset}\",\"deviceTime\":\"{deviceTime:yyyy-MM-ddTHH:mm:ss.fffZ}\",\"readings\":{{\"vibration_rms_mm_s\":{value}}}}}"));
}
