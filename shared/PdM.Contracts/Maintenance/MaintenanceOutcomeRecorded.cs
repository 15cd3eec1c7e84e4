using PdM.Contracts.Decisions;

namespace PdM.Contracts.Maintenance;

/// <summary>
/// A planner closed the CMMS record of a case: the failure was confirmed (with its failure code) or no fault was found.
/// These are the training labels; the provenance says which model or ruleset the label judges.
/// </summary>
public sealed record MaintenanceOutcomeRecorded
{
    public required Guid OutcomeId { get; init; }

    public required Guid CaseId { get; init; }

    public required Guid WorkOrderId { get; init; }

    public required string SiteId { get; init; }

    public required string AssetId { get; init; }

    public required string FailureMode { get; init; }

    public required MaintenanceOutcome Outcome { get; init; }

    /// <summary>The code the planner closed the record with (Maximo problem code, SAP damage code); null when none.</summary>
    public string? FailureCode { get; init; }

    public required DateTimeOffset ClosedAt { get; init; }

    /// <summary><c>maximo</c>, <c>sap</c>, <c>webhook</c> or <c>api</c>: where the outcome was read.</summary>
    public required string Source { get; init; }

    public string? CmmsRecordId { get; init; }

    public required IReadOnlyList<Guid> SourcePredictionIds { get; init; }

    public required DecisionProvenance Provenance { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}

public enum MaintenanceOutcome
{
    FailureConfirmed = 0,
    NoFaultFound = 1,
}
