using PdM.Contracts.Decisions;

namespace PdM.Contracts.Maintenance;

/// <summary>Maintenance opened a work order for a case. Published once per work order, through the module's outbox.</summary>
public sealed record WorkOrderRaised
{
    public required Guid WorkOrderId { get; init; }

    public required string SiteId { get; init; }

    public required string AssetId { get; init; }

    public required string FailureMode { get; init; }

    public required WorkOrderPriority Priority { get; init; }

    /// <summary>Our key in the CMMS (Maximo externalrefid, SAP MaintNotifExtReferenceNumber).</summary>
    public required string ExternalKey { get; init; }

    public required Guid SourcePredictionId { get; init; }

    public required DecisionProvenance Provenance { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The case the work order belongs to (added in the CMMS-adapter release; null from older publishers).</summary>
    public Guid? CaseId { get; init; }

    /// <summary><c>request</c> or <c>workOrder</c>, as the site's confidence gate decided.</summary>
    public string? Kind { get; init; }

    /// <summary>The CMMS the work order goes to: <c>maximo</c>, <c>sap</c>, <c>webhook</c> or <c>none</c>.</summary>
    public string? CmmsSystem { get; init; }

    public double? Confidence { get; init; }
}

public enum WorkOrderPriority
{
    Low = 4,
    Medium = 3,
    High = 2,
    Urgent = 1,
}
