using MassTransit;
using PdM.Contracts.Models;
using PdM.Testing;

namespace PdM.Registry.Tests;

[Collection(RegistrySuite.Name)]
public sealed class ModelDriftTests(RegistryFixture fixture)
{
    [Fact]
    public async Task A_gateways_drift_report_shows_on_the_model_version_the_latest_one_first_and_a_redelivery_once()
    {
        var name = TestPackages.UniqueName("drift");
        var (model, manifest) = TestPackages.Load("logreg_failure", name);
        (await fixture.Push(name, model, manifest)).EnsureSuccessStatusCode();
        var version = await fixture.Version(name, "1.0.0");
        Assert.Null(version.Drift);

        var first = Drift(version.PackageDigest, "torque_nm", 0.31, DateTimeOffset.UtcNow.AddMinutes(-5));
        var latest = Drift(version.PackageDigest, "tool_wear_min", 0.87, DateTimeOffset.UtcNow);
        await fixture.Bus.Publish(first);
        await fixture.Bus.Publish(latest);
        await fixture.Bus.Publish(latest); // redelivered: stored once

        var shown = (await Eventually.Until(() => fixture.Version(name, "1.0.0"), v => v.Drift is { Reports: 2 }, TimeSpan.FromSeconds(30), "both drift reports")).Drift!;
        Assert.Equal(("tool_wear_min", 0.87, 0.2, "edge-7", "plant-a", 1000), (shown.Feature, shown.Psi, shown.Threshold, shown.GatewayId, shown.SiteId, shown.WindowRows));
        Assert.Equal(0.87, shown.FeaturePsi["tool_wear_min"]);
        Assert.Equal(0.05, shown.FeaturePsi["torque_nm"]);
    }

    private static ModelDriftDetected Drift(string digest, string feature, double psi, DateTimeOffset at) => new()
    {
        EventId = Guid.NewGuid(), GatewayId = "edge-7", SiteId = "plant-a", AssetClass = "milling-machine", ModelName = "m", ModelVersion = "1.0.0",
        ModelDigest = digest, Feature = feature, Psi = psi, Threshold = 0.2,
        FeaturePsi = new Dictionary<string, double> { [feature] = psi, ["torque_nm"] = feature == "torque_nm" ? psi : 0.05 },
        WindowRows = 1000, OccurredAt = at,
    };
}
