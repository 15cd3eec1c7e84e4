using PdM.Contracts.Models;
using PdM.Testing;

namespace PdM.Lineage.Tests;

/// <summary>Lineage records a gateway's drift report against the model version it is about.</summary>
public sealed class ModelDriftAuditTests(LineageFixture fixture) : IClassFixture<LineageFixture>
{
    [Fact]
    public async Task A_drift_report_is_audited_on_the_model_version_with_the_gateway_and_the_feature()
    {
        var name = "drifting-" + Guid.NewGuid().ToString("N")[..8];
        var drift = new ModelDriftDetected
        {
            EventId = Guid.NewGuid(), GatewayId = "edge-3", SiteId = "plant-b", AssetClass = "pump", ModelName = name, ModelVersion = "2.1.0",
            ModelDigest = new string('d', 64), Feature = "vibration_rms", Psi = 1.4, Threshold = 0.2,
            FeaturePsi = new Dictionary<string, double> { ["vibration_rms"] = 1.4 }, WindowRows = 1000, OccurredAt = DateTimeOffset.UtcNow,
        };
        await fixture.Bus.Publish(drift);

        var entry = Assert.Single(await Eventually.Until(() => fixture.Entries($"model:{name}@2.1.0"), e => e.Count == 1, TimeSpan.FromSeconds(30), "the drift audited"));
        Assert.Equal(("gateway:edge-3", "model.drift-detected", drift.ModelDigest), (entry.Actor, entry.Action, entry.AfterDigest));
        Assert.Contains("\"feature\":\"vibration_rms\"", entry.Detail, StringComparison.Ordinal);
    }
}
