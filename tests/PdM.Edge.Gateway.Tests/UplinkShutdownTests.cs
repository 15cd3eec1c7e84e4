using System.Globalization;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Contracts.Telemetry;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// Stopping a gateway (Ctrl-C, a deployment's restart) while its uplink is busy: the batch already handed to the broker
/// is let finish. Cancelled under way, every publish in it was logged by MassTransit as an error with a stack trace
/// (seen at each Ctrl-C of <c>make run</c>) and sent again at the next start although the broker had it.
/// </summary>
public sealed class UplinkShutdownTests
{
    // RabbitMQ, and the in-process bus of `make run` (where the faults were seen).
    [Theory]
    [InlineData("RabbitMq")]
    [InlineData("InMemory")]
    public async Task Stopping_a_gateway_in_the_middle_of_a_busy_uplink_logs_no_error(string transport)
    {
        var site = LocalDependencies.UniqueName("stop").Replace('_', '-');
        var gateway = await GatewayUnderTest.StartAsync(site,
        [
            .. TestGatewayArguments.Pumps(["PUMP-7"]),
            $"--Gateway:FeatureSpecPath={TestFeatureSpecs.PerReading()}",
            "--Gateway:FeatureUpload:Enabled=true",
            "--Gateway:FeatureUpload:MaxRows=1",
            $"--Messaging:Transport={transport}",
        ]);
        using var device = await GatewayUnderTest.ConnectClient($"dev-{site}", LocalDependencies.MqttPort);
        using var stopDevice = new CancellationTokenSource();

        // Under the per-reading spec every reading closes a window, and with batches of one window each is a feature batch
        // of its own for the uplink: it publishes for as long as the device sends. The spec's second sensor never reports,
        // so every row holds a NaN (which MassTransit's serializer refused until the bus allowed it).
        var sending = Task.Run(async () =>
        {
            var time = DateTimeOffset.UtcNow.AddHours(-1);
            while (!stopDevice.IsCancellationRequested)
            {
                time = time.AddMilliseconds(100);
                var json = string.Create(CultureInfo.InvariantCulture,
                    $$$"""{"schemaVersion":1,"asset":"PUMP-7","deviceTime":"{{{time:yyyy-MM-ddTHH:mm:ss.fffZ}}}","readings":{"vibration_rms_mm_s":2.5}}""");
                await device.PublishAsync(new MqttApplicationMessageBuilder()
                    .WithTopic(TelemetryTopics.Telemetry(site, "PUMP-7"))
                    .WithPayload(Encoding.UTF8.GetBytes(json))
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce)
                    .Build());
            }
        });

        try
        {
            await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.ingest.processed")), n => n >= 500, TimeSpan.FromSeconds(60),
                "500 readings processed");
            // Sent: counted by the uplink once the bus confirmed them (on RabbitMQ the test's observer receives them, so
            // none is returned as unroutable).
            await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.uplink.bytes", "class", "feature_batch")),
                bytes => bytes > 100_000, TimeSpan.FromSeconds(60), "100 kB of feature batches sent");
        }
        finally
        {
            await gateway.DisposeAsync(); // stops the host while the device still sends and the uplink publishes
            await stopDevice.CancelAsync();
            await sending;
        }

        Assert.True(gateway.Logs.Contains("Application is shutting down"), "the host did stop");
        var errors = gateway.Logs.Lines.Where(line => line.StartsWith("Error ", StringComparison.Ordinal) || line.StartsWith("Critical ", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, "errors logged while stopping:\n" + string.Join('\n', errors.Take(5)));
    }
}
