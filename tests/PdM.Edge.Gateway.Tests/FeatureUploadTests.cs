using System.Collections.Concurrent;
using System.Text.Json;
using MassTransit;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Contracts;
using PdM.Contracts.Decisions;
using PdM.Contracts.Telemetry;
using PdM.Edge.Simulator;
using PdM.Features;
using PdM.Messaging;
using PdM.Testing;
using PdM.Training;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// The demo's loop at the edge, on the real Mosquitto and RabbitMQ: a gateway with pumps (default spec) and a turbofan
/// (the shipped C-MAPSS spec) receives a replayed FD001 engine and pump telemetry, batches every closed window into
/// FeatureWindowsCollected with the right spec digest per class, and decides the engine by the turbofan rules while no
/// model is deployed. The feature store receives, for the engine, exactly the training vectors of that engine.
/// </summary>
public sealed class FeatureUploadTests
{
    [Fact]
    public async Task Closed_windows_of_two_classes_arrive_on_the_bus_in_batches_with_their_spec_digest()
    {
        var site = LocalDependencies.UniqueName("fu").Replace('_', '-');
        var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("fu"));
        var batches = new ConcurrentQueue<FeatureWindowsCollected>();
        var predictions = new ConcurrentQueue<FailurePredicted>();
        var endpoint = RabbitMqEndpoint.Parse(vhost);
        var observer = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(endpoint.Host, endpoint.Port, endpoint.VirtualHost, h =>
            {
                h.Username(endpoint.Username);
                h.Password(endpoint.Password);
            });
            cfg.ReceiveEndpoint("feature-store-observer", e =>
            {
                e.Handler<FeatureWindowsCollected>(context =>
                {
                    batches.Enqueue(context.Message);
                    return Task.CompletedTask;
                });
                e.Handler<FailurePredicted>(context =>
                {
                    predictions.Enqueue(context.Message);
                    return Task.CompletedTask;
                });
            });
        });
        await observer.StartAsync();
        try
        {
            await using var gateway = await GatewayUnderTest.StartAsync(site,
            [
                .. TurbofanFeaturesTests.AssetModelSettings(0, TurbofanFeaturesTests.Pump("PUMP-1")),
                .. TurbofanFeaturesTests.AssetModelSettings(1, TurbofanFeaturesTests.Turbofan("ENGINE-031")),
                $"--Messaging:RabbitMq:Uri={vhost}",
                $"--Gateway:FeatureSpecs:turbofan={TurbofanFeaturesTests.SpecPath}",
                "--Gateway:FeatureUpload:Enabled=true",
                "--Gateway:FeatureUpload:MaxRows=40",
                "--Gateway:FeatureUpload:MaxDelay=00:00:01",
            ]);

            using var device = await GatewayUnderTest.ConnectClient($"dev-{site}", LocalDependencies.MqttPort);
            var replay = CmapssReplay.Load(new CmapssReplayOptions { Enabled = true, Units = [31], Loop = false });
            var messages = new List<(string AssetId, TelemetryMessage Message)>();
            var now = DateTimeOffset.UtcNow;
            var cycles = 0;
            while (true)
            {
                messages.Clear();
                replay.NextCycle(now, messages);
                if (messages.Count == 0)
                {
                    break;
                }

                var (asset, message) = Assert.Single(messages);
                await Publish(device, TelemetryTopics.Telemetry(site, asset), message);

                // A pump reading every 2 s of device time: 10 s windows close as the engine's time moves on.
                if (cycles % 2 == 0)
                {
                    await Publish(device, TelemetryTopics.Telemetry(site, "PUMP-1"), new TelemetryMessage
                    {
                        SchemaVersion = 1,
                        DeviceTime = message.DeviceTime,
                        Readings = new() { ["vibration_rms_mm_s"] = 2.0 + (cycles % 5 * 0.1), ["bearing_temperature_c"] = 61 },
                    });
                }

                cycles++;
            }

            var spec = CmapssTraining.DefaultSpec(30, includeCycle: true, longWindow: 100);
            var expected = CmapssTraining.ComputeFeatures(CmapssDataset.Load(Path.Combine(LocalDependencies.RepositoryRoot, "datasets", "cmapss", "test_FD001.txt")), spec)
                .Where(v => v.AssetId == "engine-31")
                .ToList();
            await Eventually.Until(() => Task.FromResult(Rows(batches, "ENGINE-031").Count), n => n >= expected.Count - 1, TimeSpan.FromSeconds(60), "the engine's feature windows on the bus");

            var engineBatches = batches.Where(b => b.FeatureSpecName == "turbofan-fd001").ToList();
            Assert.All(engineBatches, b => Assert.Equal(FeatureSpecDigest.Compute(spec), b.FeatureSpecDigest));
            Assert.All(engineBatches, b => Assert.Equal(spec.Features.Select(f => f.Name), b.FeatureNames));
            Assert.All(engineBatches, b => Assert.True(b.Rows.Count <= 40));
            Assert.All(engineBatches, b => Assert.Equal($"gw-{site}", b.GatewayId));
            Assert.True(engineBatches.Count >= 4, $"{engineBatches.Count} batches for {expected.Count - 1} windows at 40 rows per batch");

            var rows = Rows(batches, "ENGINE-031");
            Assert.Equal(expected.Count - 1, rows.Count);
            for (var i = 0; i < rows.Count; i++)
            {
                Assert.Equal(expected[i].Values, rows[i].Values);
            }

            var pumpBatches = batches.Where(b => b.Rows.Any(r => r.AssetId == "PUMP-1")).ToList();
            Assert.NotEmpty(pumpBatches);
            Assert.All(pumpBatches, b => Assert.Equal(FeatureSpecDigest.Compute(FeatureSpec.Parse(Pipeline.DefaultFeatureSpec.Json)), b.FeatureSpecDigest));
            Assert.All(pumpBatches, b => Assert.DoesNotContain(b.Rows, r => r.AssetId == "ENGINE-031"));

            // No model for turbofans: the rules judge the engine's late cycles, and say why they decided.
            var prediction = await Eventually.Until(() => Task.FromResult(predictions.FirstOrDefault(p => p.AssetId == "ENGINE-031")), p => p is not null, TimeSpan.FromSeconds(30), "a rules prediction for the engine");
            Assert.Equal(DecisionPath.Rules, prediction!.Provenance.Path);
            Assert.Equal("turbofan-hpc-degradation", prediction.Provenance.RulesetName);
            Assert.Equal("no_model", prediction.Provenance.FallbackReason);

            // The console shows the engine's path once per change, not once per window.
            var lines = gateway.Logs.Lines.Where(l => l.Contains("DecisionBoard", StringComparison.Ordinal) && l.Contains("ENGINE-031 ", StringComparison.Ordinal)).ToList();
            Assert.Contains(lines, l => l.Contains("path=rules (no_model) turbofan-hpc-degradation@1.0.0 state=Healthy", StringComparison.Ordinal));
            Assert.InRange(lines.Count, 2, 10);
        }
        finally
        {
            await observer.StopAsync();
        }
    }

    private static List<FeatureWindowRow> Rows(IEnumerable<FeatureWindowsCollected> batches, string assetId) =>
        [.. batches.SelectMany(b => b.Rows).Where(r => r.AssetId == assetId).OrderBy(r => r.WindowEndUnixMs)];

    private static async Task Publish(IMqttClient client, string topic, TelemetryMessage message) =>
        await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(JsonSerializer.SerializeToUtf8Bytes(message, ContractsJsonContext.Default.TelemetryMessage))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
}
