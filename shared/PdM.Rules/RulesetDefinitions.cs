using PdM.Contracts.Decisions;

namespace PdM.Rules;

/// <summary>A fact a ruleset reads: supplied by the caller, or derived from other facts when <see cref="Expression"/> is set.</summary>
public sealed record FactDefinition(string Name, string Unit, string? Description, string? Expression)
{
    public bool IsDerived => Expression is not null;
}

/// <summary>A fact value a rule quotes as evidence when it fires, against an optional limit.</summary>
public sealed record EvidenceDefinition(string Signal, double? Limit);

/// <summary>A validated rule: its RulesEngine expression plus our metadata from the rule's <c>Properties</c>.</summary>
public sealed record RuleDefinition(
    string Name,
    string Expression,
    string FailureMode,
    FailureSeverity Severity,
    HealthState HealthState,
    double Confidence,
    string? Description,
    string? Source,
    IReadOnlyList<EvidenceDefinition> Evidence);
