using PdM.Contracts.Decisions;
using PdM.Contracts.Models;
using PdM.Contracts.Registry;
using PdM.Edge.Inference;
using PdM.ModelPackage.Signing;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>One gateway for the whole class; every test deploys to an asset class of its own.</summary>
public sealed class DeploymentFixture : IAsyncLifetime
{
    public DeployingGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync() => Gateway = await DeployingGateway.StartAsync();

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}

/// <summary>
/// The deployment protocol end to end on real RabbitMQ: the registry's ModelDeploymentRequested → download from the
/// artifact endpoint → SHA-256, signature and package checks → load as production / canary / shadow →
/// ModelDeploymentSucceeded or ModelDeploymentFailed with the reason, and what the gateway decides afterwards.
/// </summary>
public sealed class ModelDeploymentTests(DeploymentFixture fixture) : IClassFixture<DeploymentFixture>
{
    private DeployingGateway Gateway => fixture.Gateway;

    private static string NewClass() => "mill-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task A_signed_production_package_is_loaded_and_makes_the_next_decision()
    {
        var assetClass = NewClass();
        var package = TestPackage.Create("logreg_failure", assetClass, "1.4.0");
        var url = Gateway.Artifacts.Add(package.Zip);

        var outcome = await Gateway.DeployAsync(Gateway.Request(package, url, ModelStage.Production));

        var succeeded = Assert.IsType<ModelDeploymentSucceeded>(outcome);
        Assert.Equal(Gateway.Site, succeeded.SiteId);
        Assert.Equal("gw-" + Gateway.Site, succeeded.GatewayId);
        Assert.Equal(package.Digest, succeeded.PackageDigest);
        Assert.Equal(ModelStage.Production, succeeded.Stage);
        var decision = await Gateway.DecideAsync(assetClass, "mill-7");
        Assert.Equal(DecisionPath.Model, decision.Provenance.Path);
        Assert.Equal("ai4i-failure-logreg", decision.Provenance.ModelName);
        Assert.Equal("1.4.0", decision.Provenance.ModelVersion);
        Assert.Equal(package.Digest, decision.Provenance.ModelDigest);

        // Downloaded with the gateway's bearer token; kept in the store under its manifest name for restarts.
        Assert.All(Gateway.Artifacts.RequestsFor(url), r => Assert.Equal("Bearer gateway-test-token", r.Authorization));
        Assert.True(File.Exists(Path.Combine(Gateway.StorePath, assetClass, "ai4i-failure-logreg@1.4.0.zip")));
        Assert.True(Gateway.Metrics.Total("pdm.gateway.deployments", "outcome", "succeeded") >= 1);
    }

    [Fact]
    public async Task A_model_none_of_the_classes_assets_can_feed_is_answered_Failed_with_feature_mismatch_and_never_loaded()
    {
        // PUMP-1 reports vibration only and computes the default pump spec; the package reads five AI4I sensors.
        var package = TestPackage.Create("logreg_failure", "centrifugal-pump", "1.0.0");

        var outcome = await Gateway.DeployAsync(Gateway.Request(package, Gateway.Artifacts.Add(package.Zip), ModelStage.Production));

        var failed = Assert.IsType<ModelDeploymentFailed>(outcome);
        Assert.Equal("feature_mismatch", failed.Reason);
        Assert.Contains("PUMP-1 lacks air_temperature_k, process_temperature_k, rotational_speed_rpm, torque_nm, tool_wear_min", failed.Detail, StringComparison.Ordinal);
        Assert.Contains("computes the features of spec 'default' for centrifugal-pump", failed.Detail, StringComparison.Ordinal);
        Assert.Equal("PUMP-1", Assert.Single(failed.FallbackAssets!).AssetId);
        var decision = await Gateway.DecideAsync("centrifugal-pump", "PUMP-1");
        Assert.NotEqual(DecisionPath.Model, decision.Provenance.Path);
        Assert.False(Directory.Exists(Path.Combine(Gateway.StorePath, "centrifugal-pump")) && Directory.EnumerateFiles(Path.Combine(Gateway.StorePath, "centrifugal-pump"), "*.zip").Any());
        Assert.True(Gateway.Metrics.Total("pdm.gateway.deployments", "reason", "feature_mismatch") >= 1);
    }

    [Fact]
    public async Task A_model_some_of_the_classes_assets_can_feed_succeeds_naming_the_assets_that_keep_the_rules()
    {
        var package = TestPackage.Create("logreg_failure", DeployingGateway.MillClass, "1.0.0");

        var outcome = await Gateway.DeployAsync(Gateway.Request(package, Gateway.Artifacts.Add(package.Zip), ModelStage.Production));

        var succeeded = Assert.IsType<ModelDeploymentSucceeded>(outcome);
        Assert.Equal(1, succeeded.DecidingAssets);
        var fallback = Assert.Single(succeeded.FallbackAssets!);
        Assert.Equal("MILL-B", fallback.AssetId);
        Assert.Equal(new[] { "process_temperature_k", "torque_nm", "tool_wear_min" }, fallback.MissingSensors);
        Assert.Equal(DecisionPath.Model, (await Gateway.DecideAsync(DeployingGateway.MillClass, "MILL-A")).Provenance.Path);
    }

    [Fact]
    public async Task One_modified_byte_of_the_artifact_is_refused_with_artifact_sha_mismatch()
    {
        var assetClass = NewClass();
        await Gateway.DeployProductionAsync("logreg_failure", assetClass, "1.0.0");
        var v2 = TestPackage.Create("logreg_failure_v2", assetClass, "2.0.0");
        var tampered = (byte[])v2.Zip.Clone();
        tampered[tampered.Length / 2] ^= 0x01;

        var outcome = await Gateway.DeployAsync(Gateway.Request(v2, Gateway.Artifacts.Add(tampered), ModelStage.Production));

        var failed = Assert.IsType<ModelDeploymentFailed>(outcome);
        Assert.Equal("artifact_sha_mismatch", failed.Reason);
        Assert.Contains(v2.ArtifactSha256, failed.Detail, StringComparison.Ordinal);
        await AssertStillDecidesWith(assetClass, "1.0.0");
        Assert.True(Gateway.Metrics.Total("pdm.gateway.deployments", "reason", "artifact_sha_mismatch") >= 1);
    }

    [Fact]
    public async Task A_repacked_zip_with_a_changed_model_byte_is_refused_with_digest_mismatch_even_when_its_sha_matches()
    {
        var assetClass = NewClass();
        await Gateway.DeployProductionAsync("logreg_failure", assetClass, "1.0.0");
        var v2 = TestPackage.Create("logreg_failure_v2", assetClass, "2.0.0");
        var model = (byte[])v2.Model.Clone();
        model[^1] ^= 0x01;
        var repacked = TestPackage.Pack(model, v2.Manifest);

        // The request names the repacked zip's SHA-256 (the artifact store was tampered with) but the approved digest.
        var request = Gateway.Request(v2, Gateway.Artifacts.Add(repacked), ModelStage.Production, artifactSha256: ArtifactServer.Sha256(repacked));
        var outcome = await Gateway.DeployAsync(request);

        Assert.Equal("digest_mismatch", Assert.IsType<ModelDeploymentFailed>(outcome).Reason);
        await AssertStillDecidesWith(assetClass, "1.0.0");
    }

    [Fact]
    public async Task A_package_signed_by_another_key_is_refused_with_bad_signature()
    {
        var assetClass = NewClass();
        await Gateway.DeployProductionAsync("logreg_failure", assetClass, "1.0.0");
        var v2 = TestPackage.Create("logreg_failure_v2", assetClass, "2.0.0");
        using var stranger = PackageSigner.Generate();

        var outcome = await Gateway.DeployAsync(Gateway.Request(v2, Gateway.Artifacts.Add(v2.Zip), ModelStage.Production, signature: stranger.Sign(v2.Digest)));

        Assert.Equal("bad_signature", Assert.IsType<ModelDeploymentFailed>(outcome).Reason);
        await AssertStillDecidesWith(assetClass, "1.0.0");
    }

    [Theory]
    [InlineData(ModelStage.Production, null)]
    [InlineData(ModelStage.Canary, 1.0)]
    public async Task An_unsigned_package_for_a_stage_that_decides_is_refused_and_deleted(ModelStage stage, double? canaryShare)
    {
        var assetClass = NewClass();
        await Gateway.DeployProductionAsync("logreg_failure", assetClass, "1.0.0");
        var v2 = TestPackage.Create("logreg_failure_v2", assetClass, "2.0.0");

        // A canary with share 1.0 would decide for every asset of the site: it needs the registry's signature as production does.
        var outcome = await Gateway.DeployAsync(Gateway.Request(v2, Gateway.Artifacts.Add(v2.Zip), stage, signature: null, canaryShare: canaryShare));

        var failed = Assert.IsType<ModelDeploymentFailed>(outcome);
        Assert.Equal("unsigned", failed.Reason);
        Assert.Equal("2.0.0", failed.ModelVersion);
        await AssertStillDecidesWith(assetClass, "1.0.0");
        Assert.False(File.Exists(Path.Combine(Gateway.StorePath, assetClass, "ai4i-failure-logreg@2.0.0.zip")));
        Assert.False(File.Exists(Path.Combine(Gateway.StorePath, assetClass, LocalModelStore.CandidatesFolder, "ai4i-failure-logreg@2.0.0.zip")));
        Assert.Null(Gateway.Slots.Find(assetClass)!.Canary);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(Gateway.StorePath, ".downloads")));
    }

    [Fact]
    public async Task An_unsigned_shadow_is_loaded_and_its_statistics_reach_the_registry()
    {
        var assetClass = NewClass();
        await Gateway.DeployProductionAsync("logreg_failure", assetClass, "1.0.0");
        var candidate = TestPackage.Create("logreg_failure_v2", assetClass, "2.0.0");

        var outcome = await Gateway.DeployAsync(Gateway.Request(candidate, Gateway.Artifacts.Add(candidate.Zip), ModelStage.Shadow, signature: null));

        Assert.Equal(ModelStage.Shadow, Assert.IsType<ModelDeploymentSucceeded>(outcome).Stage);
        var report = await Eventually.Until(
            async () =>
            {
                // Production still decides; the shadow scores the same rows and reports every second.
                Assert.Equal("1.0.0", (await Gateway.DecideAsync(assetClass, "mill-1")).Provenance.ModelVersion);
                return Gateway.Events.OfType<ShadowEvaluationReported>().FirstOrDefault(r => r.AssetClass == assetClass && r.ComparedRows > 0);
            },
            r => r is not null,
            TimeSpan.FromSeconds(60),
            "shadow statistics for " + assetClass);
        Assert.Equal("2.0.0", report!.CandidateModelVersion);
        Assert.Equal(candidate.Digest, report.CandidateModelDigest);
        Assert.Equal("1.0.0", report.ProductionModelVersion);
        Assert.Equal(Gateway.Site, report.SiteId);
    }

    [Fact]
    public async Task A_canary_decides_for_its_share_of_the_assets()
    {
        var assetClass = NewClass();
        await Gateway.DeployProductionAsync("logreg_failure", assetClass, "1.0.0");
        var canary = TestPackage.Create("logreg_failure_v2", assetClass, "2.0.0");

        var outcome = await Gateway.DeployAsync(Gateway.Request(canary, Gateway.Artifacts.Add(canary.Zip), ModelStage.Canary, canaryShare: 0.5));

        Assert.Equal(0.5, Assert.IsType<ModelDeploymentSucceeded>(outcome).CanaryShare);
        var assets = Enumerable.Range(0, 60).Select(i => "mill-" + i).ToList();
        var decidedByCanary = 0;
        foreach (var asset in assets)
        {
            var decision = await Gateway.DecideAsync(assetClass, asset);
            decidedByCanary += decision.Provenance.ModelVersion == "2.0.0" ? 1 : 0;
            Assert.Equal(CanaryRouting.RoutesToCanary(asset, 0.5) ? canary.Digest : null, decision.Provenance.ModelVersion == "2.0.0" ? decision.Provenance.ModelDigest : null);
            Assert.Equal(CanaryRouting.RoutesToCanary(asset, 0.5) ? "2.0.0" : "1.0.0", decision.Provenance.ModelVersion);
        }

        Assert.Contains(assets, a => CanaryRouting.RoutesToCanary(a, 0.5));
        Assert.Contains(assets, a => !CanaryRouting.RoutesToCanary(a, 0.5));

        // The share is honoured: about half of the 60 assets were decided by the canary (counted from the decisions,
        // 30 ± a third, as CanaryTests allows 60 ± 20 of 200 at 0.3). A share read as 0.25 (about 15) or the canary
        // deciding for all or none would fall outside.
        Assert.InRange(decidedByCanary, 20, 40);
    }

    [Fact]
    public async Task A_download_cut_half_way_resumes_with_a_range_request()
    {
        var assetClass = NewClass();
        var package = TestPackage.Create("logreg_failure", assetClass, "1.0.0");
        var url = Gateway.Artifacts.Add(package.Zip, dropFirstTransfer: true);

        var outcome = await Gateway.DeployAsync(Gateway.Request(package, url, ModelStage.Production));

        Assert.IsType<ModelDeploymentSucceeded>(outcome);
        var requests = Gateway.Artifacts.RequestsFor(url);
        Assert.Equal(-1, requests[0].Status);
        var resumed = requests[1];
        Assert.Equal(206, resumed.Status);
        Assert.StartsWith("bytes=", resumed.Range, StringComparison.Ordinal);
        Assert.NotEqual("bytes=0-", resumed.Range);
        await AssertStillDecidesWith(assetClass, "1.0.0");
    }

    [Fact]
    public async Task The_same_deployment_delivered_twice_is_done_once()
    {
        var assetClass = NewClass();
        var package = TestPackage.Create("logreg_failure", assetClass, "1.0.0");
        var url = Gateway.Artifacts.Add(package.Zip);
        var request = Gateway.Request(package, url, ModelStage.Production);
        var duplicates = Gateway.Metrics.Total("pdm.gateway.deployments", "outcome", "duplicate");

        await Gateway.PublishAsync(request);
        await Gateway.PublishAsync(request);
        await Gateway.OutcomeAsync(request.DeploymentId);
        await Eventually.Until(() => Task.FromResult(Gateway.Metrics.Total("pdm.gateway.deployments", "outcome", "duplicate")), n => n > duplicates, TimeSpan.FromSeconds(30), "the repeat to be recognised");

        // And once more after the first has completed.
        await Gateway.PublishAsync(request);
        await Eventually.Until(() => Task.FromResult(Gateway.Metrics.Total("pdm.gateway.deployments", "outcome", "duplicate")), n => n > duplicates + 1, TimeSpan.FromSeconds(30), "the late repeat to be recognised");

        Assert.Single(Gateway.Events.OfType<ModelDeploymentSucceeded>(), e => e.DeploymentId == request.DeploymentId);
        Assert.Single(Gateway.Artifacts.RequestsFor(url));
    }

    [Fact]
    public async Task A_request_for_another_site_is_ignored()
    {
        var assetClass = NewClass();
        var package = TestPackage.Create("logreg_failure", assetClass, "1.0.0");
        var url = Gateway.Artifacts.Add(package.Zip);
        var elsewhere = Gateway.Request(package, url, ModelStage.Production) with { SiteIds = ["another-site"] };
        var markerPackage = TestPackage.Create("logreg_failure", NewClass(), "1.0.0");
        var marker = Gateway.Request(markerPackage, Gateway.Artifacts.Add(markerPackage.Zip), ModelStage.Production);

        await Gateway.PublishAsync(elsewhere);
        Assert.IsType<ModelDeploymentSucceeded>(await Gateway.DeployAsync(marker));

        Assert.Empty(Gateway.Artifacts.RequestsFor(url));
        Assert.DoesNotContain(Gateway.Events.OfType<ModelDeploymentSucceeded>(), e => e.DeploymentId == elsewhere.DeploymentId);
        Assert.Null(Gateway.Slots.Find(assetClass));
    }

    [Fact]
    public async Task An_artifact_the_registry_does_not_have_fails_with_download_failed_without_retrying()
    {
        var assetClass = NewClass();
        var package = TestPackage.Create("logreg_failure", assetClass, "1.0.0");
        var url = Gateway.Artifacts.BaseUrl + "/api/artifacts/" + package.ArtifactSha256;

        var failed = Assert.IsType<ModelDeploymentFailed>(await Gateway.DeployAsync(Gateway.Request(package, url, ModelStage.Production)));

        Assert.Equal("download_failed", failed.Reason);
        Assert.Contains("404", failed.Detail, StringComparison.Ordinal);
        Assert.Single(Gateway.Artifacts.RequestsFor(url));
        Assert.Null(Gateway.Slots.Find(assetClass)?.Current);
    }

    [Fact]
    public async Task Archiving_the_canary_sends_all_assets_back_to_production()
    {
        var assetClass = NewClass();
        await Gateway.DeployProductionAsync("logreg_failure", assetClass, "1.0.0");
        var canary = TestPackage.Create("logreg_failure_v2", assetClass, "2.0.0");
        var url = Gateway.Artifacts.Add(canary.Zip);
        Assert.IsType<ModelDeploymentSucceeded>(await Gateway.DeployAsync(Gateway.Request(canary, url, ModelStage.Canary, canaryShare: 1.0)));
        await AssertStillDecidesWith(assetClass, "2.0.0");

        var archived = await Gateway.DeployAsync(Gateway.Request(canary, url, ModelStage.Archived, signature: null));

        Assert.Equal(ModelStage.Archived, Assert.IsType<ModelDeploymentSucceeded>(archived).Stage);
        Assert.Null(Gateway.Slots.Find(assetClass)!.Canary);
        await AssertStillDecidesWith(assetClass, "1.0.0");
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(Gateway.StorePath, assetClass, LocalModelStore.CandidatesFolder)));
    }

    [Fact]
    public async Task A_canary_that_misbehaves_is_rolled_back_the_registry_hears_it_and_a_restart_would_not_bring_it_back()
    {
        var assetClass = NewClass();
        await Gateway.DeployProductionAsync("logreg_failure", assetClass, "1.0.0");
        var broken = TestPackage.Create("broken_nan_output", assetClass, "2.0.0");
        Assert.IsType<ModelDeploymentSucceeded>(await Gateway.DeployAsync(Gateway.Request(broken, Gateway.Artifacts.Add(broken.Zip), ModelStage.Canary, canaryShare: 1.0)));
        Assert.NotNull(new LocalModelStore(Gateway.StorePath).ReadState(assetClass).Canary);

        // Every row the canary scores is NaN: past the rollback window's minimum (50 rows) it is removed.
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(FallbackReason.InvalidOutput, (await Gateway.DecideAsync(assetClass, "mill-" + i, [298.0f, 308.5f, 1500.0f, 40.0f, 100.0f])).FallbackReason);
        }

        var rolledBack = await Eventually.Until(
            () => Task.FromResult(Gateway.Events.OfType<ModelRolledBack>().FirstOrDefault(e => e.AssetClass == assetClass)),
            e => e is not null,
            TimeSpan.FromSeconds(60),
            "ModelRolledBack for the canary");
        Assert.Equal(broken.Digest, rolledBack!.FromModelDigest);
        Assert.Equal("1.0.0", rolledBack.ToModelVersion);
        await AssertStillDecidesWith(assetClass, "1.0.0");
        await Eventually.Until(
            () => Task.FromResult(new LocalModelStore(Gateway.StorePath).ReadState(assetClass)),
            state => state.Canary is null && state.Production == "ai4i-failure-logreg@1.0.0.zip",
            TimeSpan.FromSeconds(30),
            "the store to forget the rolled-back canary");
    }

    private async Task AssertStillDecidesWith(string assetClass, string version)
    {
        var decision = await Gateway.DecideAsync(assetClass, "mill-1");
        Assert.Equal(DecisionPath.Model, decision.Provenance.Path);
        Assert.Equal(version, decision.Provenance.ModelVersion);
    }
}
