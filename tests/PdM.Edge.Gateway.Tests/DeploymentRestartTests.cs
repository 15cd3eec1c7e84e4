using PdM.Contracts.Models;
using PdM.Contracts.Registry;
using PdM.Edge.Inference;
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

    [Fact]
    public async Task A_package_changed_on_disk_is_refused_at_the_next_start_the_last_verified_version_decides_and_the_cloud_hears_of_it()
    {
        await using var gateway = await DeployingGateway.StartAsync();
        var assetClass = "mill-" + Guid.NewGuid().ToString("N")[..8];
        var v1 = await gateway.DeployProductionAsync("logreg_failure", assetClass, "1.0.0");
        var v2 = await gateway.DeployProductionAsync("logreg_failure_v2", assetClass, "2.0.0");
        var shadow = TestPackage.Create("logreg_failure_v2", assetClass, "3.0.0");
        Assert.IsType<ModelDeploymentSucceeded>(await gateway.DeployAsync(gateway.Request(shadow, gateway.Artifacts.Add(shadow.Zip), ModelStage.Shadow, signature: null)));
        Assert.Equal(v2.Digest, gateway.Slots.Find(assetClass)!.Current!.Digest);
        await gateway.App.StopAsync();

        // Someone with access to the gateway's disk swaps the running version's package for another valid package
        // under the same name (it would load and decide), and edits the shadow's model.
        var stored = Path.Combine(gateway.StorePath, assetClass, "ai4i-failure-logreg@2.0.0.zip");
        await File.WriteAllBytesAsync(stored, TestPackage.Create("logreg_failure", assetClass, "2.0.0").Zip);
        var storedShadow = Path.Combine(gateway.StorePath, assetClass, LocalModelStore.CandidatesFolder, "ai4i-failure-logreg@3.0.0.zip");
        await File.WriteAllBytesAsync(storedShadow, TestPackage.Create("logreg_failure", assetClass, "3.0.0").Zip);

        await gateway.RestartAsync();

        var slot = gateway.Slots.Find(assetClass)!;
        Assert.Equal((v1.Digest, "1.0.0"), (slot.Current!.Digest, slot.Current.Version));
        Assert.Null(slot.Shadow);
        Assert.Equal("1.0.0", (await gateway.DecideAsync(assetClass, "mill-7")).Provenance.ModelVersion);
        Assert.Equal(1, gateway.Metrics.Total("pdm.gateway.model_integrity_violations", "role", "Production"));
        Assert.Equal(1, gateway.Metrics.Total("pdm.gateway.model_integrity_violations", "role", "Shadow"));

        // Journaled at start and sent: the cloud's audit log consumes the same event.
        var violation = await Eventually.Until(
            () => Task.FromResult(gateway.Events.OfType<ModelIntegrityViolation>().FirstOrDefault(v => v.AssetClass == assetClass && v.Role == "Production")),
            v => v is not null, TimeSpan.FromSeconds(60), "the ModelIntegrityViolation of the production package");
        Assert.Equal(("digest_mismatch", v2.Digest, "ai4i-failure-logreg@2.0.0.zip", gateway.Site), (violation!.Reason, violation.ExpectedDigest, violation.PackageFile, violation.SiteId));
        Assert.NotEqual(v2.Digest, violation.ActualDigest);
    }
}
