using System.Diagnostics;
using System.Collections.Concurrent;
using PdM.Contracts.Decisions;
using PdM.Testing;

namespace PdM.Edge.Inference.Tests;

public sealed class ModelLifecycleTests
{
    [Fact]
    public async Task Hot_swap_under_concurrent_load_loses_no_decision_and_never_mixes_versions_in_a_batch()
    {
        await using var h = new InferenceHarness(new InferenceOptions { MaxBatchWaitMs = 2, MaxBatchSize = 16 });
        Assert.True(h.Deploy("logreg_failure").Succeeded);
        var v1 = InferenceHarness.Golden("logreg_failure", "failure_probability");
        var v2 = InferenceHarness.Golden("logreg_failure_v2", "failure_probability");
        const int Workers = 6;
        const int AfterSwaps = 50;
        const int Swaps = 21;
        var swapping = true;
        var requested = 0;
        var decisions = new ConcurrentBag<(int Case, Decision Decision)>();
        var byVersion = new ConcurrentDictionary<string, int>();

        // Each worker keeps deciding while the swaps go on, then 50 more: the load overlaps every swap, whatever the machine's speed.
        var load = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            var after = 0;
            for (var i = 0; Volatile.Read(ref swapping) || after++ < AfterSwaps; i++)
            {
                var c = (w + i) % v1.Count;
                Interlocked.Increment(ref requested);
                var decision = await h.Decide(v1[c].Input, assetId: "mill-" + w);
                decisions.Add((c, decision));
                byVersion.AddOrUpdate(decision.Provenance.ModelVersion ?? "", 1, (_, n) => n + 1);
            }
        })).ToArray();
        for (var swap = 0; swap < Swaps; swap++)
        {
            var deployed = swap % 2 == 0 ? "2.0.0" : "1.0.0";
            var before = byVersion.GetValueOrDefault(deployed);
            Assert.True(h.Deploy(swap % 2 == 0 ? "logreg_failure_v2" : "logreg_failure").Succeeded);

            // The next swap waits until the new version has decided at least once, so on a loaded machine the load
            // still overlaps every version (it did not always: all decisions could land after the last swap).
            var waited = Stopwatch.StartNew();
            while (byVersion.GetValueOrDefault(deployed) == before && waited.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(1);
            }
        }

        Volatile.Write(ref swapping, false);
        await Task.WhenAll(load);

        Assert.Equal(requested, decisions.Count);
        Assert.All(decisions, d => Assert.Equal(DecisionPath.Model, d.Decision.Provenance.Path));
        foreach (var batch in decisions.GroupBy(d => d.Decision.BatchId))
        {
            Assert.Single(batch.Select(d => d.Decision.Provenance.ModelDigest).Distinct());
        }

        // Scored by the version it says: each version's output for the same input differs.
        foreach (var (c, decision) in decisions)
        {
            var expected = decision.Provenance.ModelVersion == "2.0.0" ? v2[c].Expected : v1[c].Expected;
            Assert.Equal(expected, decision.FailureProbability!.Value, 4);
        }

        Assert.Contains(decisions, d => d.Decision.Provenance.ModelVersion == "1.0.0");
        Assert.Contains(decisions, d => d.Decision.Provenance.ModelVersion == "2.0.0");
        Assert.Contains(decisions.GroupBy(d => d.Decision.BatchId), batch => batch.Count() > 1);
    }

    [Fact]
    public async Task A_version_that_misbehaves_is_rolled_back_to_the_previous_one()
    {
        var options = new InferenceOptions { MaxBatchWaitMs = 0, RollbackWindowSize = 20, RollbackMinSamples = 10, RollbackMaxErrorRate = 0.5 };
        await using var h = new InferenceHarness(options);
        Assert.True(h.Deploy("logreg_failure").Succeeded);
        Assert.True(h.Deploy("broken_nan_output").Succeeded);
        float[] nanRow = [298.0f, 308.5f, 1500.0f, 40.0f, 100.0f];

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(FallbackReason.InvalidOutput, (await h.Decide(nanRow)).FallbackReason);
        }

        var slot = h.Slots.Find(InferenceHarness.Milling)!;
        await slot.DrainAsync();
        Assert.Equal("ai4i-failure-logreg", slot.Current!.Name);
        var rolledBack = Assert.Single(h.Events.RolledBack);
        Assert.Equal("ai4i-nan-output", rolledBack.FromModelName);
        Assert.Equal("ai4i-failure-logreg", rolledBack.ToModelName);
        Assert.Equal("1.0.0", rolledBack.ToModelVersion);
        Assert.StartsWith("error_rate 1 > 0.5", rolledBack.Reason, StringComparison.Ordinal);

        var after = await h.Decide(nanRow);
        Assert.Equal(DecisionPath.Model, after.Provenance.Path);
        Assert.Equal("ai4i-failure-logreg", after.Provenance.ModelName);
    }

    [Fact]
    public async Task A_high_out_of_distribution_rate_also_rolls_back()
    {
        var options = new InferenceOptions { MaxBatchWaitMs = 0, RollbackWindowSize = 10, RollbackMinSamples = 5, RollbackMaxOodRate = 0.5 };
        await using var h = new InferenceHarness(options);
        h.Deploy("logreg_failure");
        h.Deploy("logreg_failure_v2");

        for (var i = 0; i < 5; i++)
        {
            await h.Decide([300.0f, 310.0f, 1500.0f, 95.0f, 100.0f]);
        }

        await h.Slots.Find(InferenceHarness.Milling)!.DrainAsync();
        Assert.Equal("1.0.0", h.Slots.Find(InferenceHarness.Milling)!.Current!.Version);
        Assert.StartsWith("ood_rate", Assert.Single(h.Events.RolledBack).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_previous_version_a_misbehaving_model_stays_and_the_rules_cover()
    {
        var options = new InferenceOptions { MaxBatchWaitMs = 0, RollbackWindowSize = 10, RollbackMinSamples = 5 };
        await using var h = new InferenceHarness(options);
        h.Deploy("broken_nan_output");

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(FallbackReason.InvalidOutput, (await h.Decide([298.0f, 308.5f, 1500.0f, 40.0f, 100.0f])).FallbackReason);
        }

        await h.Slots.Find(InferenceHarness.Milling)!.DrainAsync();
        Assert.Empty(h.Events.RolledBack);
        Assert.Equal("ai4i-nan-output", h.Slots.Find(InferenceHarness.Milling)!.Current!.Name);
    }

    [Fact]
    public async Task A_shadow_candidate_is_compared_on_the_same_rows_without_deciding()
    {
        await using var h = new InferenceHarness();
        h.Deploy("logreg_failure");
        Assert.True(h.Slots.DeployShadow(InferenceHarness.Milling, InferenceHarness.Model("logreg_failure_v2")).Succeeded);
        var v1 = InferenceHarness.Golden("logreg_failure", "failure_probability");
        var v2 = InferenceHarness.Golden("logreg_failure_v2", "failure_probability");
        var expectedAgreements = 0;
        const int Rounds = 5;

        for (var round = 0; round < Rounds; round++)
        {
            for (var c = 0; c < v1.Count; c++)
            {
                var decision = await h.Decide(v1[c].Input);
                Assert.Equal("1.0.0", decision.Provenance.ModelVersion);
                expectedAgreements += State(v1[c].Expected) == State(v2[c].Expected) ? 1 : 0;
            }
        }

        var slot = h.Slots.Find(InferenceHarness.Milling)!;
        await slot.DrainAsync();
        var report = slot.ReportShadow()!;

        Assert.Equal(Rounds * v1.Count, report.ComparedRows);
        Assert.Equal(expectedAgreements, report.AgreedRows);
        Assert.InRange(expectedAgreements, 1, (Rounds * v1.Count) - 1);
        Assert.Equal((double)expectedAgreements / (Rounds * v1.Count), report.AgreementRatio, 6);
        Assert.Equal(0, report.CandidateFailedRows);
        Assert.Equal("2.0.0", report.CandidateModelVersion);
        Assert.Equal("1.0.0", report.ProductionModelVersion);
        Assert.Same(report, Assert.Single(h.Events.ShadowReports));
        Assert.Equal(0, slot.ShadowStatistics!.ComparedRows);
    }

    [Fact]
    public async Task Shadow_statistics_are_reported_periodically()
    {
        var time = new ManualTimeProvider();
        await using var h = new InferenceHarness(new InferenceOptions { MaxBatchWaitMs = 0, ShadowReportIntervalSeconds = 60 }, time);
        h.Deploy("logreg_failure");
        h.Slots.DeployShadow(InferenceHarness.Milling, InferenceHarness.Model("logreg_failure_v2"));
        var input = InferenceHarness.Golden("logreg_failure", "failure_probability")[0].Input;

        var slot = h.Slots.Find(InferenceHarness.Milling)!;
        await h.Decide(input);
        await slot.DrainAsync();
        Assert.Empty(h.Events.ShadowReports);
        time.Advance(TimeSpan.FromSeconds(61));
        await h.Decide(input);
        await slot.DrainAsync();

        Assert.Equal(2, Assert.Single(h.Events.ShadowReports).ComparedRows);
    }

    [Fact]
    public async Task A_shadow_that_fails_never_affects_decisions_and_is_counted()
    {
        await using var h = new InferenceHarness();
        h.Deploy("logreg_failure");
        h.Slots.DeployShadow(InferenceHarness.Milling, InferenceHarness.Model("broken_run_fails"));

        var decision = await h.Decide([300.0f, 310.0f, 1500.0f, 40.0f, 251.0f]);

        Assert.Equal(DecisionPath.Model, decision.Provenance.Path);
        var slot = h.Slots.Find(InferenceHarness.Milling)!;
        await slot.DrainAsync();
        Assert.Equal(1, slot.ReportShadow()!.CandidateFailedRows);
    }

    [Fact]
    public async Task A_failed_deployment_keeps_the_running_version()
    {
        await using var h = new InferenceHarness();
        h.Deploy("logreg_failure");

        var failed = h.Deploy("broken_external_data");
        var decision = await h.Decide(InferenceHarness.Golden("logreg_failure", "failure_probability")[0].Input);

        Assert.Equal("external_data", failed.FailureCode);
        Assert.Equal(DecisionPath.Model, decision.Provenance.Path);
        Assert.Null(h.Slots.Find(InferenceHarness.Milling)!.LoadFailure);
    }

    [Fact]
    public async Task A_package_for_another_asset_class_is_refused()
    {
        await using var h = new InferenceHarness();

        var result = h.Deploy("rul_trees", InferenceHarness.Milling);

        Assert.False(result.Succeeded);
        Assert.Equal("manifest_invalid", result.FailureCode);
    }

    private static HealthState State(double p) =>
        p >= 0.8 ? HealthState.Danger : p >= 0.5 ? HealthState.Alert : p >= 0.3 ? HealthState.Watch : HealthState.Healthy;
}
