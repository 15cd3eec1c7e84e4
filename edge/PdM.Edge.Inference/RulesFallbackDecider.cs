using PdM.Contracts.Decisions;
using PdM.Rules;

namespace PdM.Edge.Inference;

/// <summary>
/// The production fallback: asks PdM.Rules' evaluator. Its facts are the window features and the latest
/// raw sensor values; where a name is both, the raw value wins, because rulesets state limits on readings.
/// </summary>
public sealed class RulesFallbackDecider(IRulesEvaluator rules, TimeProvider time) : IFallbackDecider
{
    public ValueTask<Decision> DecideAsync(FallbackRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var facts = new Dictionary<string, double>(request.FeatureNames.Count + request.SensorValues.Count, StringComparer.Ordinal);
        var values = request.FeatureValues.Span;
        for (var i = 0; i < request.FeatureNames.Count && i < values.Length; i++)
        {
            facts[request.FeatureNames[i]] = values[i];
        }

        foreach (var (sensor, value) in request.SensorValues)
        {
            facts[sensor] = value;
        }

        var answer = rules.Evaluate(new RulesInput
        {
            AssetId = request.AssetId,
            AssetClass = request.AssetClass,
            Facts = facts,
            WindowStart = request.WindowStart,
            WindowEnd = request.WindowEnd,
            Source = request.Source,
        });
        return ValueTask.FromResult(new Decision
        {
            AssetId = request.AssetId,
            AssetClass = request.AssetClass,
            HealthState = answer.HealthState,
            Severity = answer.Severity ?? DecisionPolicy.SeverityOf(answer.HealthState),
            FailureMode = answer.FailureMode,
            Confidence = answer.Confidence,
            Evidence = answer.Evidence,
            Provenance = new DecisionProvenance
            {
                Path = DecisionPath.Rules,
                GatewayId = request.GatewayId,
                RulesetName = answer.RulesetName,
                RulesetVersion = answer.RulesetVersion,
                RuleName = answer.RuleName,
                FallbackReason = request.Reason.ToCode(),
            },
            FallbackReason = request.Reason,
            WindowStart = request.WindowStart,
            WindowEnd = request.WindowEnd,
            DecidedAt = time.GetUtcNow(),
        });
    }
}
