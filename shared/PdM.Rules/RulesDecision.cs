using PdM.Contracts.Decisions;

namespace PdM.Rules;

/// <summary>
/// The rules' answer for one asset. Always produced: no rule fired (or no ruleset for the class) is a
/// <see cref="HealthState.Healthy"/> decision. When several rules fire, the worst (severity, then health state,
/// then confidence, then file order) decides and <see cref="Firings"/> lists all of them, worst first.
/// </summary>
public sealed record RulesDecision
{
    public required string AssetId { get; init; }

    public required string AssetClass { get; init; }

    public required HealthState HealthState { get; init; }

    /// <summary>ISO 14224 failure-mode code of the deciding rule; null when healthy.</summary>
    public string? FailureMode { get; init; }

    /// <summary>Severity of the deciding rule; null when healthy.</summary>
    public FailureSeverity? Severity { get; init; }

    /// <summary>
    /// 0..1. A firing rule's fixed confidence; when healthy, the ruleset's healthy confidence scaled by the share of
    /// rules whose facts were all present (0 when nothing could be checked).
    /// </summary>
    public required double Confidence { get; init; }

    /// <summary>Evidence of every rule that fired, worst rule first.</summary>
    public required IReadOnlyList<Evidence> Evidence { get; init; }

    /// <summary>Every rule that fired, worst first; empty when healthy.</summary>
    public required IReadOnlyList<RuleFiring> Firings { get; init; }

    /// <summary>Null only when no ruleset is loaded for <see cref="AssetClass"/>.</summary>
    public string? RulesetName { get; init; }

    public string? RulesetVersion { get; init; }

    /// <summary>The deciding rule; null when healthy.</summary>
    public string? RuleName { get; init; }

    /// <summary>Declared facts that were absent or not finite in the input.</summary>
    public required IReadOnlyList<string> MissingFacts { get; init; }

    /// <summary>Rules that could be checked (all their facts present) out of <see cref="RulesTotal"/>.</summary>
    public required int RulesEvaluated { get; init; }

    public required int RulesTotal { get; init; }

    /// <summary>Why the answer is weaker than usual (no ruleset, a rule failed at run time); empty normally.</summary>
    public required IReadOnlyList<string> Notes { get; init; }
}

/// <summary>One rule that fired, with our metadata from its <c>Properties</c> and the evidence it names.</summary>
public sealed record RuleFiring(
    string RuleName,
    string FailureMode,
    FailureSeverity Severity,
    HealthState HealthState,
    double Confidence,
    string? Description,
    IReadOnlyList<Evidence> Evidence);
