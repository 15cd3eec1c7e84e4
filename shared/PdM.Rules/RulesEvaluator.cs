using PdM.Contracts.Decisions;

namespace PdM.Rules;

/// <summary>
/// The fallback that always answers: evaluates the active ruleset of the input's asset class. An asset class without
/// a valid ruleset gets a Healthy answer with confidence 0 and a note saying why, so the caller can tell "checked
/// and fine" from "nothing to check with".
/// </summary>
public sealed class RulesEvaluator(RulesetStore store, RulesTelemetry telemetry, TimeProvider timeProvider) : IRulesEvaluator
{
    public RulesDecision Evaluate(RulesInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var now = timeProvider.GetUtcNow();
        var ruleset = input.AssetClass is null ? null : store.Find(input.AssetClass);
        var decision = ruleset is null ? NoRuleset(input) : ruleset.Evaluate(input, now);
        telemetry.Evaluated(decision);
        return decision;
    }

    private static RulesDecision NoRuleset(RulesInput input) => new()
    {
        AssetId = input.AssetId,
        AssetClass = input.AssetClass,
        HealthState = HealthState.Healthy,
        Confidence = 0,
        Evidence = [],
        Firings = [],
        MissingFacts = [],
        RulesEvaluated = 0,
        RulesTotal = 0,
        Notes = [$"no valid ruleset is loaded for asset class '{input.AssetClass}'"],
    };
}
