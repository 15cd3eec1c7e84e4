using System.Diagnostics.Metrics;
using PdM.Contracts.Decisions;

namespace PdM.Rules;

/// <summary>
/// Owns the rules fallback's <see cref="Meter"/> (<c>PdM.Rules</c>). Tags are asset class, health state and
/// failure mode, all bounded by the rulesets deployed; asset ids stay out to keep cardinality flat.
/// </summary>
public sealed class RulesTelemetry : IDisposable
{
    public const string MeterName = "PdM.Rules";

    private readonly Meter _meter;
    private readonly Counter<long> _evaluations;
    private readonly Counter<long> _fired;
    private readonly Counter<long> _missingFacts;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _reloads;

    /// <summary>Creates the meter through <paramref name="meterFactory"/> when given (DI), else a standalone one.</summary>
    public RulesTelemetry(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _evaluations = _meter.CreateCounter<long>("pdm.rules.evaluations", "{evaluation}",
            "Rules evaluations, by asset class and resulting health state (no_ruleset when the class has none).");
        _fired = _meter.CreateCounter<long>("pdm.rules.fired", "{rule}", "Rules that fired, by asset class and failure mode.");
        _missingFacts = _meter.CreateCounter<long>("pdm.rules.missing_facts", "{fact}",
            "Declared facts absent or not finite in an evaluation's input, by asset class.");
        _rejected = _meter.CreateCounter<long>("pdm.rules.rulesets.rejected", "{problem}",
            "Ruleset problems found on load or reload (each distinct file content counted once).");
        _reloads = _meter.CreateCounter<long>("pdm.rules.reloads", "{reload}", "Ruleset folder reloads.");
    }

    public void Evaluated(RulesDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var assetClass = new KeyValuePair<string, object?>("asset_class", decision.AssetClass);
        var state = decision.RulesetName is null ? "no_ruleset" : HealthStateTag(decision.HealthState);
        _evaluations.Add(1, assetClass, new KeyValuePair<string, object?>("health_state", state));
        foreach (var firing in decision.Firings)
        {
            _fired.Add(1, assetClass, new KeyValuePair<string, object?>("failure_mode", firing.FailureMode));
        }

        if (decision.MissingFacts.Count > 0)
        {
            _missingFacts.Add(decision.MissingFacts.Count, assetClass);
        }
    }

    public void Rejected(int problems) => _rejected.Add(problems);

    public void Reloaded() => _reloads.Add(1);

    public void Dispose() => _meter.Dispose();

    private static string HealthStateTag(HealthState state) => state switch
    {
        HealthState.Healthy => "healthy",
        HealthState.Watch => "watch",
        HealthState.Alert => "alert",
        HealthState.Danger => "danger",
        _ => "unknown",
    };
}
