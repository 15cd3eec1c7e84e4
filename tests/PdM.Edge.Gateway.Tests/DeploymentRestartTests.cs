using PdM.Contracts.Registry;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>What a gateway restart keeps of the registry's deployments: the model store and the deployment ledger.</summary>
public sealed class DeploymentRestartTests
{
    [Fact]
    public async Task After_a_restart_the_deployed_production_canary_and_shadow_are_back_and_a_redelivery_does_nothing()
    {
        await using var gateway = await DeployingGateway.StartAsync();
        var assetClass = "mill-" + Guid.NewGuid().ToString("N")[..8];
        await gateway.DeployProductionAsync("logreg_failure_v2", assetClass, "2.0.0");

        // The registry puts the older version back in production: a restart must not pick the newest file instead.
        await gateway.DeployProductionAsync("logreg_failure", assetClass, "1.0.0");
        var canary = TestPackage.Create("logreg_failure_v2", assetClass, "3.0.0");
        var canaryUrl = gateway.Artifacts.Add(canary.Zip);
        var canaryRequest = gateway.Request(canary, canaryUrl, ModelStage.Canary, canaryShare: 0.3);
        Assert.IsType<ModelDeploymentSucceeded>(await gateway.DeployAsync(canaryRequest));
        var shadow = TestPackage.Create("logreg_failure_v2", assetClass, "4.0.0");
        Assert.IsType<ModelDeploymentSucceeded>(await gateway.DeployAsync(gateway.Request(shadow, gateway.Artifacts.Add(shadow.Zip), ModelStage.Shadow, signature: null)));

        await gateway.RestartAsync();

        var slot = gateway.Slots.Find(assetClass)!;
        Assert.Equal("1.0.0", slot.Current!.Version);
        Assert.Equal("3.0.0", slot.Canary!.Version);
        Assert.Equal(0.3, slot.CanaryShare);
        Assert.Equal("4.0.0", slot.Shadow!.Version);
        Assert.Equal("1.0.0", (await gateway.DecideAsync(assetClass, "mill-2")).Provenance.ModelVersion);

        var downloads = gateway.Artifacts.RequestsFor(canaryUrl).Count;
        var duplicates = gateway.Metrics.Total("pdm.gateway.deployments", "outcome", "duplicate");
        await gateway.PublishAsync(canaryRequest);
        await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.gateway.deployments", "outcome", "duplicate")), n => n > duplicates, TimeSpan.FromSeconds(30), "the redelivery to be recognised");
        Assert.Equal(downloads, gateway.Artifacts.RequestsFor(canaryUrl).Count);
        Assert.Single(gateway.Events.OfType<ModelDeploymentSucceeded>(), e => e.DeploymentId == canaryRequest.DeploymentId);
    }
}
