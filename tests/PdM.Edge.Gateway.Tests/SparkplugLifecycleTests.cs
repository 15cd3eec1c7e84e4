using System.Buffers;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Contracts.Edge;
using PdM.Edge.Ingestion;
using PdM.Edge.Ingestion.Sparkplug;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// The gateway as a Sparkplug B 3.0 host against the real Mosquitto: an edge node is born, reports aliased data,
/// skips a sequence number (the gateway asks for a rebirth, seen on the broker) and dies when its connection is cut
/// (the broker delivers its NDEATH Will, the gateway reports the asset offline on RabbitMQ). The gateway's own STATE
/// is retained online and turns offline through its Will when the gateway's connection is cut.
/// </summary>
public sealed class SparkplugLifecycleTests
{
    private const string Device = "pump1";

    [Fact]
    public async Task Birth_aliased_data_sequence_gap_rebirth_and_death_by_will()
    {
        var site = LocalDependencies.UniqueName("sp").Replace('_', '-');
        var group = "G" + site[^8..];
        var node = "edge-1";
        var hostId = "host-" + site[^8..];
        await using var gateway = await GatewayUnderTest.StartAsync(site,
        [
            .. AssetModel("PUMP-S1"),
            $"--Ingestion:Sparkplug:HostId={hostId}",
            $"--Ingestion:Sparkplug:Assets:0:GroupId={group}",
            $"--Ingestion:Sparkplug:Assets:0:EdgeNodeId={node}",
            $"--Ingestion:Sparkplug:Assets:0:DeviceId={Device}",
            "--Ingestion:Sparkplug:Assets:0:AssetId=PUMP-S1",
            "--Ingestion:Sparkplug:Assets:0:Metrics:Vibration/RMS=vibration_rms_mm_s",
            "--Ingestion:Sparkplug:RebirthRetryInterval=00:00:00.100",
            $"--Gateway:FeatureSpecPath={TestFeatureSpecs.PerReading()}",
        ]);

        // A second, independent client watches the broker: rebirth commands and the host's retained STATE.
        using var watcher = await GatewayUnderTest.ConnectClient($"watch-{site}", LocalDependencies.MqttPort);
        var commands = new List<Payload>();
        var states = new List<string>();
        watcher.ApplicationMessageReceivedAsync += e =>
        {
            var topic = e.ApplicationMessage.Topic;
            if (topic == $"spBv1.0/{group}/NCMD/{node}")
            {
                Assert.Equal(RejectReason.None, SparkplugCodec.TryDecode(e.ApplicationMessage.Payload, 16, out var payload));
                lock (commands)
                {
                    commands.Add(payload!);
                }
            }
            else if (topic == SparkplugHostState.Topic(hostId))
            {
                lock (states)
                {
                    states.Add(System.Text.Encoding.UTF8.GetString(e.ApplicationMessage.Payload.ToArray()));
                }
            }

            return Task.CompletedTask;
        };
        await watcher.SubscribeAsync($"spBv1.0/{group}/NCMD/#", MqttQualityOfServiceLevel.AtLeastOnce);
        await watcher.SubscribeAsync(SparkplugHostState.Topic(hostId), MqttQualityOfServiceLevel.AtLeastOnce);
        await Eventually.Until(() => Task.FromResult(Snapshot(states)), s => s.Any(x => x.Contains("\"online\":true", StringComparison.Ordinal)), TimeSpan.FromSeconds(20), "the host's retained STATE online");

        // The edge node connects through its own proxy, with NDEATH (bdSeq 0) as its Will.
        await using var nodeProxy = new LoopbackTcpProxy(LocalDependencies.MqttHost, LocalDependencies.MqttPort);
        using var edge = await GatewayUnderTest.ConnectClient($"node-{site}", nodeProxy.Port, options => options
            .WithWillTopic($"spBv1.0/{group}/NDEATH/{node}")
            .WithWillPayload(SparkplugCodec.Encode(Death(bdSeq: 0)))
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce));

        var accepted = gateway.Metrics.Total("pdm.ingest.accepted");
        await Publish(edge, $"spBv1.0/{group}/NBIRTH/{node}", NodeBirth(seq: 0, bdSeq: 0));
        await Publish(edge, $"spBv1.0/{group}/DBIRTH/{node}/{Device}", DeviceBirth(seq: 1));
        await Publish(edge, $"spBv1.0/{group}/DDATA/{node}/{Device}", AliasedData(seq: 2, value: 2.5));
        await Publish(edge, $"spBv1.0/{group}/DDATA/{node}/{Device}", AliasedData(seq: 3, value: 8.4));
        await Publish(edge, $"spBv1.0/{group}/DDATA/{node}/{Device}", AliasedData(seq: 4, value: 2.0));

        // Aliased data resolved to the mapped sensor: the 8.4 mm/s reading crossed the vibration rule.
        var prediction = (await Eventually.Until(
            () => Task.FromResult(gateway.Events.OfType<PdM.Contracts.Decisions.FailurePredicted>()),
            list => list.Count > 0, TimeSpan.FromSeconds(30), "a prediction from aliased Sparkplug data")).Single();
        Assert.Equal("PUMP-S1", prediction.AssetId);
        Assert.Equal("vibration_rms_mm_s", prediction.Evidence[0].Signal);
        Assert.Equal(8.4, prediction.Evidence[0].Value);
        Assert.Equal($"spBv1.0/{group}/DDATA/{node}/{Device}", prediction.Evidence[0].Source);
        Assert.True(gateway.Metrics.Total("pdm.ingest.accepted") >= accepted + 3);
        Assert.Empty(Snapshot(commands));

        // seq 5 never arrives: the gateway asks the node to rebirth, on the broker, and refuses its data meanwhile.
        await Publish(edge, $"spBv1.0/{group}/DDATA/{node}/{Device}", AliasedData(seq: 6, value: 3.0));
        var rebirth = (await Eventually.Until(() => Task.FromResult(Snapshot(commands)), c => c.Count > 0, TimeSpan.FromSeconds(30), "an NCMD rebirth on the broker"))[0];
        var control = Assert.Single(rebirth.Metrics, m => m.Name == "Node Control/Rebirth");
        Assert.True(control.BooleanValue);

        // The node is killed (its TCP connection reset): Mosquitto publishes its Will, the NDEATH with bdSeq 0.
        nodeProxy.CutAll();
        var offline = (await Eventually.Until(
            () => Task.FromResult(gateway.Events.OfType<AssetWentOffline>()),
            list => list.Count > 0, TimeSpan.FromSeconds(30), "AssetWentOffline after the node's Will"))[0];
        Assert.Equal("PUMP-S1", offline.AssetId);
        Assert.Equal(AssetOfflineReason.EdgeNodeDeath, offline.Reason);
        Assert.Equal(0, offline.BdSeq);

        // The gateway itself dies the same way: its Will turns its retained STATE offline.
        gateway.BrokerProxy.Refuse();
        gateway.BrokerProxy.CutAll();
        await Eventually.Until(() => Task.FromResult(Snapshot(states)), s => s.Any(x => x.Contains("\"online\":false", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the host's STATE offline Will");
    }

    private static IEnumerable<string> AssetModel(string asset) =>
    [
        $"--AssetModel:Assets:0:Id={asset}",
        "--AssetModel:Assets:0:AssetClass=centrifugal-pump",
        "--AssetModel:Assets:0:Sensors:0:Id=vibration_rms_mm_s",
        "--AssetModel:Assets:0:Sensors:0:Unit=mm/s",
        "--AssetModel:Assets:0:Sensors:0:ValidMin=0",
        "--AssetModel:Assets:0:Sensors:0:ValidMax=100",
    ];

    private static async Task Publish(IMqttClient client, string topic, Payload payload)
    {
        // Sparkplug BIRTH and DATA are QoS 0; the broker keeps order on one connection.
        await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(SparkplugCodec.Encode(payload))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce)
            .Build());
    }

    /// <summary>Each message a second apart (by sequence number): count windows close on distinct timestamps.</summary>
    private static readonly long Start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000;

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static ulong At(ulong seq) => (ulong)(Start + ((long)seq * 1000));

    private static Payload NodeBirth(ulong seq, long bdSeq) => new()
    {
        Timestamp = (ulong)Now,
        Seq = seq,
        Metrics =
        {
            new Payload.Types.Metric { Name = "bdSeq", Datatype = (uint)DataType.Int64, LongValue = (ulong)bdSeq },
            new Payload.Types.Metric { Name = "Node Control/Rebirth", Datatype = (uint)DataType.Boolean, BooleanValue = false },
        },
    };

    private static Payload DeviceBirth(ulong seq) => new()
    {
        Timestamp = (ulong)Now,
        Seq = seq,
        Metrics = { new Payload.Types.Metric { Name = "Vibration/RMS", Alias = 1, Datatype = (uint)DataType.Double, DoubleValue = 2.0, Timestamp = At(seq) } },
    };

    private static Payload AliasedData(ulong seq, double value) => new()
    {
        Timestamp = (ulong)Now,
        Seq = seq,
        Metrics = { new Payload.Types.Metric { Alias = 1, Datatype = (uint)DataType.Double, DoubleValue = value, Timestamp = At(seq) } },
    };

    private static Payload Death(long bdSeq) => new()
    {
        Timestamp = (ulong)Now,
        Metrics = { new Payload.Types.Metric { Name = "bdSeq", Datatype = (uint)DataType.Int64, LongValue = (ulong)bdSeq } },
    };

    private static List<T> Snapshot<T>(List<T> list)
    {
        lock (list)
        {
            return [.. list];
        }
    }
}
