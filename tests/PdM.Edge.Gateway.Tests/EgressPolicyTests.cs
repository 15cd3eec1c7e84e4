using System.Text;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Contracts.Decisions;
using PdM.Contracts.Edge;
using PdM.Contracts.Models;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway.Egress;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// The site's data-egress policy on a real gateway, Mosquitto and RabbitMQ: a class it forbids (health assessments,
/// produced every second here) never reaches the bus, the classes it allows do, and the field it hashes arrives hashed
/// with the site's key, everywhere it occurs; the heartbeat says which policy was in force.
/// </summary>
public sealed class EgressPolicyTests
{
    private const string HashKey = "site-secret-0123456789";

    [Fact]
    public async Task A_forbidden_class_never_reaches_the_bus_allowed_ones_do_and_hashed_fields_arrive_hashed()
    {
        var site = LocalDependencies.UniqueName("eg").Replace('_', '-');
        await using var gateway = await GatewayUnderTest.StartAsync(site,
        [
            "--AssetModel:Assets:0:Id=PUMP-7",
            "--AssetModel:Assets:0:AssetClass=centrifugal-pump",
            "--AssetModel:Assets:0:Sensors:0:Id=vibration_rms_mm_s",
            "--AssetModel:Assets:0:Sensors:0:Unit=mm/s",
            "--AssetModel:Assets:0:Sensors:0:ValidMin=0",
            "--AssetModel:Assets:0:Sensors:0:ValidMax=100",
            $"--Gateway:FeatureSpecPath={TestFeatureSpecs.PerReading()}",
            "--Gateway:HealthAssessmentIntervalSeconds=1",
            "--Gateway:HeartbeatSeconds=1",
            "--Gateway:Egress:Version=plant-policy-7",
            "--Gateway:Egress:Allow:0=decisions",
            "--Gateway:Egress:Allow:1=heartbeat",
            "--Gateway:Egress:HashFields:0=assetId",
            $"--Gateway:Egress:HashKey={HashKey}",
        ]);
        var policy = new EgressPolicy(Options.Create(new EgressOptions { HashFields = ["assetId"], HashKey = HashKey }));
        var hashed = policy.Hash("PUMP-7");

        using var device = await GatewayUnderTest.ConnectClient($"dev-{site}", LocalDependencies.MqttPort);
        var t0 = DateTimeOffset.UtcNow.AddSeconds(-10);
        for (var i = 0; i < 4; i++)
        {
            // 9.5 mm/s is ISO 10816-3 zone D: every closed window raises a prediction (and a health assessment).
            var time = t0.AddSeconds(i).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
            var json = $$$"""{"schemaVersion":1,"asset":"PUMP-7","deviceTime":"{{{time}}}","readings":{"vibration_rms_mm_s":9.5}}""";
            var result = await device.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic(TelemetryTopics.Telemetry(site, "PUMP-7"))
                .WithPayload(Encoding.UTF8.GetBytes(json))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build());
            Assert.True(result.IsSuccess);
        }

        // Allowed: decisions arrive, with the asset's name hashed by the site's key.
        var prediction = (await Eventually.Until(() => Task.FromResult(gateway.Events.OfType<FailurePredicted>()), p => p.Count > 0, TimeSpan.FromSeconds(60), "a prediction on the bus"))[0];
        Assert.Equal(hashed, prediction.AssetId);
        Assert.StartsWith("h:", hashed, StringComparison.Ordinal);

        // The gateway did produce health assessments, and kept them: counted, not journaled.
        await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.egress.blocked", "class", "health")), n => n > 0, TimeSpan.FromSeconds(30), "a blocked health assessment");
        // Heartbeats journaled after that block arrive (the journal sends health before heartbeats), and say which policy held.
        var blockedAt = DateTimeOffset.UtcNow;
        var heartbeats = await Eventually.Until(() => Task.FromResult(gateway.Events.OfType<GatewayHeartbeat>()), h => h.Any(b => b.OccurredAt > blockedAt.AddSeconds(1)), TimeSpan.FromSeconds(30), "a later heartbeat");
        var heartbeat = heartbeats[^1];
        Assert.Equal("plant-policy-7", heartbeat.Egress!.Version);
        Assert.Equal(["decisions", "heartbeat"], heartbeat.Egress.AllowedClasses);
        Assert.Equal(["assetId"], heartbeat.Egress.HashedFields);
        Assert.Equal(hashed, heartbeat.Inventory.Single().Assets.Single().AssetId);

        Assert.Empty(gateway.Events.OfType<AssetHealthAssessed>());
        Assert.DoesNotContain(gateway.Events.OfType<FailurePredicted>(), p => p.AssetId == "PUMP-7");
    }

    [Fact]
    public void The_default_policy_lets_everything_but_raw_readings_leave_and_forbidding_cloud_training_keeps_feature_batches()
    {
        var defaults = new EgressPolicy(Options.Create(new EgressOptions()));
        Assert.DoesNotContain("raw_readings", defaults.Status.AllowedClasses);
        Assert.True(defaults.Allows(EgressClass.FeatureBatches));
        Assert.True(defaults.Allows(EgressClass.Health));

        var noTraining = new EgressPolicy(Options.Create(new EgressOptions { AllowCloudTraining = false }));
        Assert.False(noTraining.Allows(EgressClass.FeatureBatches));
        Assert.False(noTraining.Status.CloudTrainingAllowed);
        Assert.True(noTraining.Allows(EgressClass.Decisions));
    }

    [Theory]
    [InlineData("Allow", "known classes are")]
    [InlineData("HashKey", "HashKey must be set")]
    [InlineData("Version", "Version")]
    public void A_bad_policy_is_refused_at_start_with_the_reason(string what, string expected)
    {
        var options = what switch
        {
            "Allow" => new EgressOptions { Allow = ["decisions", "raw_data"] },
            "HashKey" => new EgressOptions { HashFields = ["assetId"], HashKey = "short" },
            _ => new EgressOptions { Version = "has spaces" },
        };
        Assert.Contains(EgressPolicy.Validate(options), p => p.Contains(expected, StringComparison.Ordinal));
    }
}
