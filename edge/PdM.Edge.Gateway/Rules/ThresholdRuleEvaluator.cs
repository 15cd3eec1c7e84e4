using Microsoft.Extensions.Options;
using PdM.Contracts.Decisions;

namespace PdM.Edge.Gateway.Rules;

/// <summary>
/// The first decision path: a threshold per sensor with hysteresis. A condition raises one prediction when it
/// starts and re-arms only after the value has clearly recovered, so a value hovering at the limit does not flood
/// the bus (Maintenance would fold repeats into one work order anyway, but the uplink should not carry them).
/// </summary>
public sealed class ThresholdRuleEvaluator
{
    public const string RulesetName = "gateway-thresholds";
    public const string RulesetVersion = "1.0.0";

    private readonly GatewayOptions _options;
    private readonly Dictionary<string, ThresholdRuleOptions> _rulesBySensor;
    private readonly HashSet<(string Asset, string Sensor)> _alarmed = [];

    public ThresholdRuleEvaluator(IOptions<GatewayOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _rulesBySensor = _options.EffectiveRules.ToDictionary(r => r.Sensor, StringComparer.Ordinal);
    }

    /// <summary>Evaluates one reading; returns a prediction when a condition starts, null otherwise.</summary>
    public FailurePredicted? Evaluate(string assetId, string sensor, double value, DateTimeOffset deviceTime, string source, DateTimeOffset now)
    {
        if (!_rulesBySensor.TryGetValue(sensor, out var rule))
        {
            return null;
        }

        var key = (assetId, sensor);
        if (value <= rule.Limit)
        {
            if (value < rule.Limit * (1 - rule.Hysteresis))
            {
                _alarmed.Remove(key);
            }

            return null;
        }

        if (!_alarmed.Add(key))
        {
            return null;
        }

        return new FailurePredicted
        {
            PredictionId = Guid.CreateVersion7(now),
            SiteId = _options.SiteId,
            AssetId = assetId,
            FailureMode = rule.FailureMode,
            Severity = Enum.Parse<FailureSeverity>(rule.Severity),
            HealthState = Enum.Parse<HealthState>(rule.HealthState),
            Confidence = 1.0,
            Evidence =
            [
                new Evidence
                {
                    Signal = sensor,
                    Value = value,
                    Unit = rule.Unit,
                    Limit = rule.Limit,
                    WindowStart = deviceTime,
                    WindowEnd = deviceTime,
                    Source = source,
                },
            ],
            Provenance = new DecisionProvenance
            {
                Path = DecisionPath.Rules,
                GatewayId = _options.EffectiveGatewayId,
                RulesetName = RulesetName,
                RulesetVersion = RulesetVersion,
                RuleName = $"{sensor} > {rule.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture)} {rule.Unit}",
                FallbackReason = "no_model",
            },
            OccurredAt = now,
        };
    }
}
