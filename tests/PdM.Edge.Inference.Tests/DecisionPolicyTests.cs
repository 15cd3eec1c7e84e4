using PdM.Contracts.Decisions;
using PdM.Testing;

namespace PdM.Edge.Inference.Tests;

/// <summary>Each fallback reason caused for real: real packages, real ONNX Runtime sessions, real failures.</summary>
public sealed class DecisionPolicyTests
{
    private static readonly float[] Typical = [300.0f, 310.0f, 1500.0f, 40.0f, 100.0f];

    [Fact]
    public async Task The_model_decides_an_in_distribution_row_and_records_what_decided()
    {
        await using var h = new InferenceHarness();
        Assert.True(h.Deploy("logreg_failure").Succeeded);
        var (input, expected) = InferenceHarness.Golden("logreg_failure", "failure_probability")[1];

        var decision = await h.Decide(input);

        Assert.Equal(DecisionPath.Model, decision.Provenance.Path);
        Assert.Null(decision.FallbackReason);
        Assert.Null(decision.Provenance.FallbackReason);
        Assert.Equal("ai4i-failure-logreg", decision.Provenance.ModelName);
        Assert.Equal("1.0.0", decision.Provenance.ModelVersion);
        Assert.Matches("^[0-9a-f]{64}$", decision.Provenance.ModelDigest!);
        Assert.Equal(InferenceHarness.WindowStart, decision.WindowStart);
        Assert.Equal(InferenceHarness.WindowEnd, decision.WindowEnd);
        Assert.Equal(expected, decision.FailureProbability!.Value, 4);
        Assert.Equal(0, h.Fallback.Calls);
    }

    [Fact]
    public async Task The_health_state_follows_the_manifest_thresholds()
    {
        await using var h = new InferenceHarness();
        h.Deploy("logreg_failure");

        foreach (var (input, p) in InferenceHarness.Golden("logreg_failure", "failure_probability"))
        {
            var expected = p >= 0.8 ? HealthState.Danger : p >= 0.5 ? HealthState.Alert : p >= 0.3 ? HealthState.Watch : HealthState.Healthy;
            Assert.Equal(expected, (await h.Decide(input)).HealthState);
        }
    }

    [Fact]
    public async Task A_rul_model_reports_remaining_useful_life_in_cycles()
    {
        await using var h = new InferenceHarness();
        Assert.True(h.Deploy("rul_trees", "turbofan").Succeeded);
        var (input, expected) = InferenceHarness.Golden("rul_trees", "rul_cycles")[3];

        var decision = await h.Decide(input, "turbofan", "engine-7", ["t30_mean", "p30_mean", "t50_mean"]);

        Assert.Equal(DecisionPath.Model, decision.Provenance.Path);
        Assert.Equal(RulUnit.Cycles, decision.RemainingUsefulLife!.Unit);
        Assert.Equal(expected, decision.RemainingUsefulLife.P50, 3);
        Assert.Equal(expected <= 10 ? HealthState.Danger : expected <= 30 ? HealthState.Alert : expected <= 60 ? HealthState.Watch : HealthState.Healthy, decision.HealthState);
    }

    [Fact]
    public async Task A_failure_mode_classifier_names_the_most_likely_failure_mode()
    {
        await using var h = new InferenceHarness();
        Assert.True(h.Deploy("failure_mode_trees").Succeeded);

        // Hot, slow and high torque: both trees lean to HDF / PWF, the normal class holds 0.25.
        var decision = await h.Decide([303.0f, 311.5f, 1290.0f, 70.0f, 240.0f]);

        Assert.Equal(DecisionPath.Model, decision.Provenance.Path);
        Assert.Equal(0.75, decision.FailureProbability!.Value, 4);
        Assert.Equal(HealthState.Alert, decision.HealthState);
        Assert.Equal("HDF", decision.FailureMode);
    }

    [Fact]
    public async Task No_model_for_the_asset_class_falls_back_with_no_model()
    {
        await using var h = new InferenceHarness();

        var decision = await h.Decide(Typical, "conveyor");

        AssertFallback(decision, FallbackReason.NoModel, "no_model");
    }

    [Fact]
    public async Task A_truncated_package_falls_back_with_load_failed()
    {
        await using var h = new InferenceHarness();
        var deployment = h.Deploy("broken_truncated");

        var decision = await h.Decide(Typical);

        Assert.False(deployment.Succeeded);
        Assert.Equal("model_unparseable", deployment.FailureCode);
        AssertFallback(decision, FallbackReason.LoadFailed, "load_failed");
    }

    [Fact]
    public async Task A_corrupt_model_file_falls_back_with_load_failed()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pdm-inf-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.Copy(Path.Combine(InferenceHarness.Model("logreg_failure"), "manifest.json"), Path.Combine(dir, "manifest.json"));
            var bytes = File.ReadAllBytes(Path.Combine(InferenceHarness.Model("logreg_failure"), "model.onnx"));
            for (var i = 0; i < bytes.Length; i += 3)
            {
                bytes[i] ^= 0x5A;
            }

            File.WriteAllBytes(Path.Combine(dir, "model.onnx"), bytes);
            await using var h = new InferenceHarness();
            Assert.False(h.Slots.Deploy(InferenceHarness.Milling, dir).Succeeded);

            AssertFallback(await h.Decide(Typical), FallbackReason.LoadFailed, "load_failed");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_model_that_fails_inside_onnx_runtime_falls_back_with_run_failed()
    {
        await using var h = new InferenceHarness();
        Assert.True(h.Deploy("broken_run_fails").Succeeded);

        // Tool wear of 251 min is inside the training range (max 253) and makes the model's Gather index out of bounds.
        var decision = await h.Decide([300.0f, 310.0f, 1500.0f, 40.0f, 251.0f]);

        AssertFallback(decision, FallbackReason.RunFailed, "run_failed");
    }

    [Fact]
    public async Task A_row_that_fails_inside_onnx_runtime_falls_back_alone_and_the_rest_of_its_batch_keeps_the_model()
    {
        await using var h = new InferenceHarness();
        Assert.True(h.Deploy("broken_run_fails").Succeeded);

        // Four assets' windows decided together; the third has the tool wear (251 min) that breaks the model's Gather,
        // which makes ONNX Runtime fail the whole call.
        List<DecisionRequest> requests =
        [
            .. Enumerable.Range(0, 4).Select(i => InferenceHarness.Request(
                i == 2 ? [300.0f, 310.0f, 1500.0f, 40.0f, 251.0f] : [300.0f, 310.0f, 1500.0f, 40.0f, 100.0f], assetId: "mill-" + i)),
        ];
        var decisions = new List<Decision>();
        await h.Policy.DecideAllAsync(requests, decisions);

        Assert.Equal(["mill-0", "mill-1", "mill-2", "mill-3"], decisions.Select(d => d.AssetId));
        AssertFallback(decisions[2], FallbackReason.RunFailed, "run_failed");
        var others = decisions.Where(d => d.AssetId != "mill-2").ToList();
        Assert.All(others, d => Assert.Equal(DecisionPath.Model, d.Provenance.Path));
        Assert.Single(others.Select(d => d.BatchId).Distinct());
    }

    [Fact]
    public async Task One_assets_row_failing_in_every_batch_does_not_open_the_breaker_for_the_others()
    {
        var options = new InferenceOptions { MaxBatchWaitMs = 0, BreakerFailureThreshold = 2, BreakerCooldownSeconds = 3600 };
        await using var h = new InferenceHarness(options);
        Assert.True(h.Deploy("broken_run_fails").Succeeded);
        List<DecisionRequest> requests =
        [
            InferenceHarness.Request([300.0f, 310.0f, 1500.0f, 40.0f, 100.0f], assetId: "mill-0"),
            InferenceHarness.Request([300.0f, 310.0f, 1500.0f, 40.0f, 251.0f], assetId: "mill-1"),
        ];

        // Twice the breaker's threshold of batches, each failing in ONNX Runtime because of mill-1's row.
        for (var round = 0; round < 4; round++)
        {
            var decisions = new List<Decision>();
            await h.Policy.DecideAllAsync(requests, decisions);

            Assert.Equal(DecisionPath.Model, decisions[0].Provenance.Path);
            AssertFallback(decisions[1], FallbackReason.RunFailed, "run_failed");
        }

        Assert.Equal(BreakerState.Closed, h.Slots.Find(InferenceHarness.Milling)!.BreakerState);
    }

    [Fact]
    public async Task A_nan_output_falls_back_with_invalid_output()
    {
        await using var h = new InferenceHarness();
        Assert.True(h.Deploy("broken_nan_output").Succeeded);

        // 298 K is in distribution; the model takes log(298 − 300) = NaN.
        var decision = await h.Decide([298.0f, 308.5f, 1500.0f, 40.0f, 100.0f]);

        AssertFallback(decision, FallbackReason.InvalidOutput, "invalid_output");
    }

    [Fact]
    public async Task An_out_of_distribution_row_falls_back_without_being_scored()
    {
        await using var h = new InferenceHarness();
        h.Deploy("logreg_failure");

        // Torque of 95 Nm: training max 76.6, range 72.8, margin 10% → upper bound ~83.9.
        var decision = await h.Decide([300.0f, 310.0f, 1500.0f, 95.0f, 100.0f]);

        AssertFallback(decision, FallbackReason.OutOfDistribution, "out_of_distribution");
        Assert.Equal(HealthState.Alert, decision.HealthState);
        Assert.Equal("torque_high", decision.Provenance.RuleName);
    }

    [Fact]
    public async Task A_wider_margin_lets_the_same_row_through_to_the_model()
    {
        await using var h = new InferenceHarness(new InferenceOptions { MaxBatchWaitMs = 0, OodMargin = 0.5 });
        h.Deploy("logreg_failure");

        var decision = await h.Decide([300.0f, 310.0f, 1500.0f, 95.0f, 100.0f]);

        Assert.Equal(DecisionPath.Model, decision.Provenance.Path);
    }

    [Fact]
    public async Task A_batch_that_overruns_the_timeout_falls_back_with_timeout()
    {
        await using var h = new InferenceHarness(new InferenceOptions { MaxBatchWaitMs = 0, BatchTimeoutMs = 100 });
        Assert.True(h.Deploy("slow_loop").Succeeded);

        // A 10^9-iteration Loop: terminated by the per-batch timeout long before it could finish.
        var decision = await h.Decide(Typical);

        AssertFallback(decision, FallbackReason.Timeout, "timeout");
    }

    [Fact]
    public async Task Features_that_are_not_the_models_feature_spec_fall_back_with_feature_mismatch()
    {
        await using var h = new InferenceHarness();
        h.Deploy("logreg_failure");

        var decision = await h.Decide(Typical, names: ["a", "b", "c", "d", "e"]);

        AssertFallback(decision, FallbackReason.FeatureMismatch, "feature_mismatch");
    }

    [Fact]
    public async Task The_breaker_opens_after_n_failures_and_closes_after_the_cooldown_on_success()
    {
        var time = new ManualTimeProvider();
        var options = new InferenceOptions { MaxBatchWaitMs = 0, BreakerFailureThreshold = 3, BreakerCooldownSeconds = 30 };
        await using var h = new InferenceHarness(options, time);
        Assert.True(h.Deploy("broken_run_fails").Succeeded);
        float[] failing = [300.0f, 310.0f, 1500.0f, 40.0f, 251.0f];
        float[] fine = [300.0f, 310.0f, 1500.0f, 40.0f, 100.0f];

        for (var i = 0; i < 3; i++)
        {
            AssertFallback(await h.Decide(failing), FallbackReason.RunFailed, "run_failed");
        }

        // Open: even a row the model could score goes to the rules, without touching the model.
        AssertFallback(await h.Decide(fine), FallbackReason.BreakerOpen, "breaker_open");
        time.Advance(TimeSpan.FromSeconds(29));
        AssertFallback(await h.Decide(fine), FallbackReason.BreakerOpen, "breaker_open");

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(BreakerState.HalfOpen, h.Slots.Find(InferenceHarness.Milling)!.BreakerState);
        var trial = await h.Decide(fine);

        Assert.Equal(DecisionPath.Model, trial.Provenance.Path);
        Assert.Equal(BreakerState.Closed, h.Slots.Find(InferenceHarness.Milling)!.BreakerState);
    }

    [Fact]
    public async Task A_failure_while_half_open_opens_the_breaker_again()
    {
        var time = new ManualTimeProvider();
        var options = new InferenceOptions { MaxBatchWaitMs = 0, BreakerFailureThreshold = 2, BreakerCooldownSeconds = 10 };
        await using var h = new InferenceHarness(options, time);
        h.Deploy("broken_run_fails");
        float[] failing = [300.0f, 310.0f, 1500.0f, 40.0f, 251.0f];
        await h.Decide(failing);
        await h.Decide(failing);
        time.Advance(TimeSpan.FromSeconds(11));

        AssertFallback(await h.Decide(failing), FallbackReason.RunFailed, "run_failed");

        AssertFallback(await h.Decide(failing), FallbackReason.BreakerOpen, "breaker_open");
    }

    [Fact]
    public async Task A_shed_window_is_decided_by_the_rules_with_reason_shed()
    {
        await using var h = new InferenceHarness();
        h.Deploy("logreg_failure");

        var decision = await h.Policy.DecideAsync(InferenceHarness.Request(Typical) with { Shed = true });

        AssertFallback(decision, FallbackReason.Shed, "shed");
        Assert.Equal(1, h.Fallback.Calls);
    }

    [Fact]
    public async Task A_shed_window_the_rules_judge_alert_goes_to_the_model_after_all()
    {
        await using var h = new InferenceHarness();
        h.Deploy("logreg_failure");

        // 70 N·m: the test rules say Alert, so the window is not left to them.
        var decision = await h.Policy.DecideAsync(InferenceHarness.Request([303.0f, 311.5f, 1290.0f, 70.0f, 240.0f]) with { Shed = true });

        Assert.Equal(DecisionPath.Model, decision.Provenance.Path);
        Assert.Null(decision.FallbackReason);
        Assert.Equal("ai4i-failure-logreg", decision.Provenance.ModelName);
        Assert.Equal(1, h.Fallback.Calls);
    }

    [Fact]
    public async Task Shedding_a_window_the_model_could_not_decide_anyway_keeps_the_real_reason()
    {
        await using var h = new InferenceHarness();

        var decision = await h.Policy.DecideAsync(InferenceHarness.Request(Typical, "conveyor") with { Shed = true });

        AssertFallback(decision, FallbackReason.NoModel, "no_model");
    }

    private static void AssertFallback(Decision decision, FallbackReason reason, string code)
    {
        Assert.Equal(DecisionPath.Rules, decision.Provenance.Path);
        Assert.Equal(reason, decision.FallbackReason);
        Assert.Equal(code, decision.Provenance.FallbackReason);
        Assert.Equal("test-rules", decision.Provenance.RulesetName);
        Assert.Equal("1.0.0", decision.Provenance.RulesetVersion);
        Assert.Null(decision.Provenance.ModelName);
        Assert.Equal(InferenceHarness.WindowStart, decision.WindowStart);
        Assert.Equal(InferenceHarness.WindowEnd, decision.WindowEnd);
    }
}
