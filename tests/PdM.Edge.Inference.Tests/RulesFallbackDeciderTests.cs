using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PdM.Contracts.Decisions;
using PdM.Rules;
using PdM.Testing;

namespace PdM.Edge.Inference.Tests;

/// <summary>The policy with the real rules fallback: the shipped AI4I ruleset decides when the model cannot.</summary>
public sealed class RulesFallbackDeciderTests : IAsyncDisposable
{
    private readonly RulesetStore _rulesets = RulesetStore.Open(Path.Combine(LocalDependencies.RepositoryRoot, "shared", "PdM.Rules", "rulesets"));
    private readonly InferenceOptions _options = new() { MaxBatchWaitMs = 0, GatewayId = "gw-test" };
    private readonly InferenceTelemetry _telemetry = new();
    private readonly ModelSlots _slots;
    private readonly DecisionPolicy _policy;

    public RulesFallbackDeciderTests()
    {
        _slots = new ModelSlots(Options.Create(_options), TimeProvider.System, _telemetry, NullInferenceEventSink.Instance, NullLoggerFactory.Instance);
        var fallback = new RulesFallbackDecider(new RulesEvaluator(_rulesets, new RulesTelemetry(), TimeProvider.System), TimeProvider.System);
        _policy = new DecisionPolicy(_slots, fallback, Options.Create(_options), TimeProvider.System, _telemetry, NullLogger<DecisionPolicy>.Instance);
    }

    [Fact]
    public async Task An_out_of_distribution_row_is_decided_by_the_shipped_ruleset()
    {
        _slots.Deploy(InferenceHarness.Milling, InferenceHarness.Model("logreg_failure"));

        // Torque far above training: the model may not decide; 95 Nm × 1500 rpm ≈ 14.9 kW is a power failure by the AI4I physics.
        var decision = await _policy.DecideAsync(Request([300.0f, 310.0f, 1500.0f, 95.0f, 100.0f]));

        Assert.Equal(DecisionPath.Rules, decision.Provenance.Path);
        Assert.Equal("out_of_distribution", decision.Provenance.FallbackReason);
        Assert.Equal("ai4i2020-physics", decision.Provenance.RulesetName);
        Assert.Equal("1.0.0", decision.Provenance.RulesetVersion);
        Assert.Equal("gw-test", decision.Provenance.GatewayId);
        Assert.NotEqual(HealthState.Healthy, decision.HealthState);
        Assert.NotNull(decision.Provenance.RuleName);
    }

    [Fact]
    public async Task Without_a_model_a_normal_row_is_healthy_by_the_rules()
    {
        var decision = await _policy.DecideAsync(Request([298.1f, 308.6f, 1551.0f, 42.8f, 0.0f]));

        Assert.Equal(DecisionPath.Rules, decision.Provenance.Path);
        Assert.Equal("no_model", decision.Provenance.FallbackReason);
        Assert.Equal(HealthState.Healthy, decision.HealthState);
        Assert.Equal("ai4i2020-physics", decision.Provenance.RulesetName);
    }

    private static DecisionRequest Request(float[] features) => new()
    {
        AssetId = "mill-9",
        AssetClass = InferenceHarness.Milling,
        FeatureNames = InferenceHarness.Ai4iFeatures,
        FeatureValues = features,
        SensorValues = new Dictionary<string, double> { ["product_type"] = 2 },
        WindowStart = InferenceHarness.WindowStart,
        WindowEnd = InferenceHarness.WindowEnd,
    };

    public async ValueTask DisposeAsync()
    {
        await _slots.DisposeAsync();
        _telemetry.Dispose();
        _rulesets.Dispose();
    }
}
