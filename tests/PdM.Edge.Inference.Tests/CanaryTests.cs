using System.Collections.Concurrent;
using PdM.Contracts.Decisions;

namespace PdM.Edge.Inference.Tests;

/// <summary>A canary version deciding for a stable share of an asset class's assets, next to production.</summary>
public sealed class CanaryTests
{
    private static readonly string[] Assets = [.. Enumerable.Range(0, 200).Select(i => "mill-" + i)];

    [Fact]
    public void The_canary_bucket_of_an_asset_is_fixed_across_processes_and_builds()
    {
        // FNV-1a over the UTF-16 code units: string.GetHashCode would move every asset on each restart.
        Assert.Equal(2557, CanaryRouting.Bucket("mill-1"));
        Assert.Equal(8487, CanaryRouting.Bucket("PUMP-7"));
        Assert.True(CanaryRouting.RoutesToCanary("mill-1", 0.3));
        Assert.False(CanaryRouting.RoutesToCanary("mill-1", 0.25));
        Assert.True(CanaryRouting.RoutesToCanary("PUMP-7", 1.0));
    }

    [Fact]
    public async Task The_canary_decides_for_its_share_of_assets_and_production_for_the_rest_always_the_same_ones()
    {
        await using var h = new InferenceHarness(new InferenceOptions { MaxBatchWaitMs = 2, MaxBatchSize = 16 });
        Assert.True(h.Deploy("logreg_failure").Succeeded);
        Assert.True(h.Slots.DeployCanary(InferenceHarness.Milling, InferenceHarness.Model("logreg_failure_v2"), 0.3).Succeeded);
        var slot = h.Slots.Find(InferenceHarness.Milling)!;
        Assert.Equal("2.0.0", slot.Canary!.Version);
        Assert.Equal(0.3, slot.CanaryShare);
        var v1 = InferenceHarness.Golden("logreg_failure", "failure_probability");
        var v2 = InferenceHarness.Golden("logreg_failure_v2", "failure_probability");

        // Two rounds, concurrently, so batches mix canary and production rows.
        var decisions = new ConcurrentBag<(string Asset, int Case, Decision Decision)>();
        for (var round = 0; round < 2; round++)
        {
            await Task.WhenAll(Assets.Select((asset, i) => Task.Run(async () =>
            {
                var c = i % v1.Count;
                decisions.Add((asset, c, await h.Decide(v1[c].Input, assetId: asset)));
            })));
        }

        Assert.Equal(Assets.Length * 2, decisions.Count);
        foreach (var (asset, c, decision) in decisions)
        {
            Assert.Equal(DecisionPath.Model, decision.Provenance.Path);
            var canary = CanaryRouting.RoutesToCanary(asset, 0.3);
            Assert.Equal(canary ? "2.0.0" : "1.0.0", decision.Provenance.ModelVersion);
            Assert.Equal(canary ? v2[c].Expected : v1[c].Expected, decision.FailureProbability!.Value, 4);
        }

        // Each asset was decided by one version in both rounds; about 30% of the assets went to the canary.
        Assert.All(decisions.GroupBy(d => d.Asset), g => Assert.Single(g.Select(d => d.Decision.Provenance.ModelDigest).Distinct()));
        var onCanary = decisions.Where(d => d.Decision.Provenance.ModelVersion == "2.0.0").Select(d => d.Asset).Distinct().Count();
        Assert.InRange(onCanary, 40, 80);

        // A batch still holds one version only.
        foreach (var batch in decisions.GroupBy(d => d.Decision.BatchId))
        {
            Assert.Single(batch.Select(d => d.Decision.Provenance.ModelDigest).Distinct());
        }
    }

    [Fact]
    public async Task Promoting_the_canary_package_to_production_replaces_the_canary()
    {
        await using var h = new InferenceHarness();
        Assert.True(h.Deploy("logreg_failure").Succeeded);
        Assert.True(h.Slots.DeployCanary(InferenceHarness.Milling, InferenceHarness.Model("logreg_failure_v2"), 0.5).Succeeded);

        Assert.True(h.Deploy("logreg_failure_v2").Succeeded);

        var slot = h.Slots.Find(InferenceHarness.Milling)!;
        Assert.Null(slot.Canary);
        Assert.Null(slot.CanaryShare);
        Assert.Equal("2.0.0", slot.Current!.Version);
        Assert.Equal("1.0.0", slot.Previous!.Version);
        foreach (var asset in Assets.Take(20))
        {
            Assert.Equal("2.0.0", (await h.Decide(InferenceHarness.Golden("logreg_failure", "failure_probability")[0].Input, assetId: asset)).Provenance.ModelVersion);
        }
    }

    [Fact]
    public async Task A_misbehaving_canary_is_removed_and_its_assets_go_back_to_production()
    {
        var options = new InferenceOptions { MaxBatchWaitMs = 0, RollbackWindowSize = 20, RollbackMinSamples = 10, RollbackMaxErrorRate = 0.5 };
        await using var h = new InferenceHarness(options);
        Assert.True(h.Deploy("logreg_failure").Succeeded);
        Assert.True(h.Slots.DeployCanary(InferenceHarness.Milling, InferenceHarness.Model("broken_nan_output"), 1.0).Succeeded);
        float[] row = [298.0f, 308.5f, 1500.0f, 40.0f, 100.0f];

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(FallbackReason.InvalidOutput, (await h.Decide(row, assetId: Assets[i])).FallbackReason);
        }

        var slot = h.Slots.Find(InferenceHarness.Milling)!;
        await slot.DrainAsync();
        Assert.Null(slot.Canary);
        Assert.Equal("1.0.0", slot.Current!.Version);
        var rolledBack = Assert.Single(h.Events.RolledBack);
        Assert.Equal("ai4i-nan-output", rolledBack.FromModelName);
        Assert.Equal("ai4i-failure-logreg", rolledBack.ToModelName);
        Assert.StartsWith("error_rate", rolledBack.Reason, StringComparison.Ordinal);

        var after = await h.Decide(row, assetId: Assets[0]);
        Assert.Equal(DecisionPath.Model, after.Provenance.Path);
        Assert.Equal("1.0.0", after.Provenance.ModelVersion);
    }

    [Fact]
    public async Task A_canary_share_outside_zero_to_one_is_refused_and_production_keeps_deciding()
    {
        await using var h = new InferenceHarness();
        Assert.True(h.Deploy("logreg_failure").Succeeded);

        var result = h.Slots.DeployCanary(InferenceHarness.Milling, InferenceHarness.Model("logreg_failure_v2"), 1.5);

        Assert.False(result.Succeeded);
        Assert.Equal("invalid_canary_share", result.FailureCode);
        Assert.Null(h.Slots.Find(InferenceHarness.Milling)!.Canary);
        Assert.Equal("1.0.0", (await h.Decide([298.0f, 308.5f, 1500.0f, 40.0f, 100.0f])).Provenance.ModelVersion);
    }

    [Fact]
    public async Task After_a_restart_the_store_brings_back_the_deployed_production_canary_and_shadow()
    {
        var root = Path.Combine(Path.GetTempPath(), "pdm-tests", "canary-store-" + Guid.NewGuid().ToString("N"));
        try
        {
            var store = new LocalModelStore(root);
            var v1 = store.Install(InferenceHarness.Model("logreg_failure")).Package!;
            var v2 = store.InstallCandidate(InferenceHarness.Model("logreg_failure_v2")).Package!;

            // The registry made v1 production although v2 is newer (e.g. it rolled v2 back to canary).
            store.Install(InferenceHarness.Model("logreg_failure_v2"));
            store.WriteState(InferenceHarness.Milling, new StoreDeploymentState
            {
                Production = Path.GetFileName(v1.Path),
                Canary = Path.GetFileName(v2.Path),
                CanaryShare = 0.25,
                Shadow = Path.GetFileName(v2.Path),
            });

            await using var h = new InferenceHarness();
            Assert.Equal(1, h.Slots.LoadFromStore(store));

            var slot = h.Slots.Find(InferenceHarness.Milling)!;
            Assert.Equal("1.0.0", slot.Current!.Version);
            Assert.Equal("2.0.0", slot.Previous!.Version);
            Assert.Equal("2.0.0", slot.Canary!.Version);
            Assert.Equal(0.25, slot.CanaryShare);
            Assert.Equal("2.0.0", slot.Shadow!.Version);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
