using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Contracts.Decisions;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway.Sharding;
using PdM.Messaging;
using PdM.Testing;
using Xunit.Abstractions;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// A site split across two gateways by asset (<c>Gateway:Sharding</c>) decides exactly what one gateway decides on the
/// same stream: the same windows of the same assets with the same evidence, each asset by the one gateway of its shard.
/// </summary>
public sealed class ShardedSiteTests(ITestOutputHelper output)
{
    private const int Assets = 8;
    private const int Seconds = 75;

    [Fact]
    public void The_shard_of_an_asset_is_a_stable_hash_of_its_id()
    {
        // FNV-1a 32 over UTF-16 code units: fixed values, so every gateway of every version agrees.
        Assert.Equal(0, AssetShards.ShardOf("anything", 1));
        var shards = Enumerable.Range(0, 64).Select(i => AssetShards.ShardOf($"P{i}", 4)).ToList();
        Assert.Equal(shards, Enumerable.Range(0, 64).Select(i => AssetShards.ShardOf($"P{i}", 4)));
        Assert.All(Enumerable.Range(0, 4), s => Assert.Contains(s, shards));
        var options = new ShardingOptions { Count = 3, Index = 1 };
        var site = new AssetShards("plant-a", options);
        Assert.Equal("gw-plant-a-shard-2", site.SessionClientId(2));
        Assert.Equal(2, site.ShardOfPresenceTopic("pdm-gateways/plant-a/shards/2"));
        Assert.Equal(-1, site.ShardOfPresenceTopic("pdm-gateways/plant-a/shards/3"));

        // Shard 0's stand-in is gateway 1 while it lives; shard 2's is gateway 0 if alive, else 1 (this one).
        Assert.True(site.IsStandIn(0, _ => true));
        Assert.False(site.IsStandIn(2, s => s == 0));
        Assert.True(site.IsStandIn(2, s => s == 1));
    }

    [Fact]
    public async Task Two_gateways_sharing_a_site_decide_window_by_window_what_one_gateway_decides()
    {
        var single = LocalDependencies.UniqueName("one").Replace('_', '-');
        var split = LocalDependencies.UniqueName("two").Replace('_', '-');
        var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("shards"));
        var endpoint = RabbitMqEndpoint.Parse(vhost);
        var decisions = new ConcurrentQueue<FailurePredicted>();
        var observer = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(endpoint.Host, endpoint.Port, endpoint.VirtualHost, h => { h.Username(endpoint.Username); h.Password(endpoint.Password); });
            cfg.ReceiveEndpoint("shard-observer", e => e.Handler<FailurePredicted>(c =>
            {
                decisions.Enqueue(c.Message);
                return Task.CompletedTask;
            }));
        });
        await observer.StartAsync();
        var gateways = new List<WebApplication>
        {
            await StartGateway(vhost, single, []),
            await StartGateway(vhost, split, ["--Gateway:Sharding:Count=2", "--Gateway:Sharding:Index=0"]),
            await StartGateway(vhost, split, ["--Gateway:Sharding:Count=2", "--Gateway:Sharding:Index=1"]),
        };
        try
        {
            // One device stream, sent to both sites: every asset one reading per second of device time for 75 s
            // (seven 10 s windows closed per asset), vibration drawn from healthy, zone C and zone D values.
            var device = new MqttClientFactory().CreateMqttClient();
            await device.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(LocalDependencies.MqttHost, LocalDependencies.MqttPort)
                .WithClientId(LocalDependencies.UniqueName("dev")).WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
            var random = new Random(17);
            double[] levels = [1.5, 2.0, 5.5, 8.5];
            var start = DateTimeOffset.UtcNow.AddMinutes(-10);
            for (var second = 0; second < Seconds; second++)
            {
                for (var a = 0; a < Assets; a++)
                {
                    var json = string.Create(CultureInfo.InvariantCulture,
                        $$$"""{"schemaVersion":1,"deviceTime":"{{{start.AddSeconds(second):yyyy-MM-ddTHH:mm:ss.fffZ}}}","readings":{"vibration_rms_mm_s":{{{levels[random.Next(levels.Length)]}}}}}""");
                    foreach (var site in (string[])[single, split])
                    {
                        await device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(TelemetryTopics.Telemetry(site, $"P{a}"))
                            .WithPayload(Encoding.UTF8.GetBytes(json)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                    }
                }
            }

            await device.DisconnectAsync();
            device.Dispose();

            // Both sites have decided every closed window once the counts agree and stop moving.
            var last = -1;
            await Eventually.Until(() =>
            {
                var counts = (Of(decisions, single).Count, Of(decisions, split).Count);
                var settled = counts.Item1 > 0 && counts.Item1 == counts.Item2 && counts.Item1 == last;
                last = counts.Item1;
                return Task.FromResult((counts, settled));
            }, r => r.settled, TimeSpan.FromSeconds(120), "both sites to decide the same number of windows");

            var one = Of(decisions, single);
            var two = Of(decisions, split);
            output.WriteLine($"{one.Count} decisions by one gateway, {two.Count} by two ({two.Select(d => d.Provenance.GatewayId).Distinct().Count()} gateways)");
            Assert.Equal(one.Select(Key).Order(StringComparer.Ordinal), two.Select(Key).Order(StringComparer.Ordinal));

            // Each asset by exactly one gateway: the one of its shard; and both gateways had assets to decide.
            foreach (var asset in two.GroupBy(d => d.AssetId))
            {
                Assert.Equal([$"gw-{split}-{AssetShards.ShardOf(asset.Key, 2)}"], asset.Select(d => d.Provenance.GatewayId).Distinct());
            }

            Assert.Equal(2, two.Select(d => d.Provenance.GatewayId).Distinct().Count());
        }
        finally
        {
            foreach (var gateway in gateways)
            {
                await gateway.StopAsync();
                await gateway.DisposeAsync();
            }

            await observer.StopAsync();
        }
    }

    private static List<FailurePredicted> Of(IEnumerable<FailurePredicted> decisions, string site) => [.. decisions.Where(d => d.SiteId == site)];

    /// <summary>A decision without the deciding gateway or its ids: asset, window, outcome and the evidence it rests on.</summary>
    private static string Key(FailurePredicted d) =>
        FormattableString.Invariant($"{d.AssetId}|{d.FailureMode}|{d.HealthState}|{d.Severity}|{d.Confidence:R}|") +
        string.Join(';', d.Evidence.Select(e => FormattableString.Invariant($"{e.Signal}={e.Value:R}@{e.WindowStart:O}..{e.WindowEnd:O}")));

    private static async Task<WebApplication> StartGateway(Uri vhost, string site, string[] sharding)
    {
        List<string> settings =
        [
            "--Urls=http://127.0.0.1:0", "--Messaging:Transport=RabbitMq", $"--Messaging:RabbitMq:Uri={vhost}",
            $"--Gateway:SiteId={site}", $"--Gateway:Mqtt:Host={LocalDependencies.MqttHost}", $"--Gateway:Mqtt:Port={LocalDependencies.MqttPort}",
            "--Gateway:SparkplugHost=false", "--Gateway:Sharding:UnknownPeerGraceSeconds=600",
            $"--Journal:Path={Path.Combine(Path.GetTempPath(), "pdm-tests", site, $"journal-{sharding.Length}-{Guid.NewGuid():N}.db")}",
            .. sharding,
        ];
        settings.AddRange(TestGatewayArguments.Pumps(Assets));

        var gateway = GatewayApplication.Build([.. settings], b => b.Logging.SetMinimumLevel(LogLevel.Warning));
        using var metrics = new MetricRecorder(gateway.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), GatewayTelemetry.Name);
        await gateway.StartAsync();
        await Eventually.Until(() => Task.FromResult(metrics.Total("pdm.mqtt.connections")), n => n > 0, TimeSpan.FromSeconds(60), "gateway subscribed");
        return gateway;
    }
}
