namespace PdM.Contracts.Maintenance;

/// <summary>
/// An open case's priority rose (its remaining useful life shrank or its health worsened). The CMMS record is updated
/// in place; no second record is created.
/// </summary>
public sealed record MaintenanceCaseEscalated
{
    public required Guid CaseId { get; init; }

    public required Guid WorkOrderId { get; init; }

    public required string SiteId { get; init; }

    public required string AssetId { get; init; }

    public required string FailureMode { get; init; }

    public required string ExternalKey { get; init; }

    public required WorkOrderPriority PreviousPriority { get; init; }

    public required WorkOrderPriority Priority { get; init; }

    public double? RulP50Hours { get; init; }

    public required Guid SourcePredictionId { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
