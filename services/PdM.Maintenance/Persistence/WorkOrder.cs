using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;

namespace PdM.Maintenance.Persistence;

public enum WorkOrderStatus
{
    Open = 0,
    Closed = 1,
}

/// <summary>
/// A work order for one (site, asset, failure mode). While it is open, further predictions of the same condition update
/// it (count, latest evidence, escalated priority) instead of opening another: a persisting condition is one problem.
/// </summary>
public sealed class WorkOrder
{
    public Guid Id { get; set; }

    public required string SiteId { get; set; }

    public required string AssetId { get; set; }

    public required string FailureMode { get; set; }

    public WorkOrderStatus Status { get; set; }

    public WorkOrderPriority Priority { get; set; }

    public FailureSeverity Severity { get; set; }

    public HealthState HealthState { get; set; }

    public double Confidence { get; set; }

    public double? RulP50 { get; set; }

    public RulUnit? RulUnit { get; set; }

    /// <summary>Our key in the CMMS; stable for the life of the work order.</summary>
    public required string ExternalKey { get; set; }

    public Guid FirstPredictionId { get; set; }

    public Guid LastPredictionId { get; set; }

    public int PredictionCount { get; set; }

    /// <summary>Provenance of the latest prediction (model or ruleset, fallback reason), as JSON.</summary>
    public required string ProvenanceJson { get; set; }

    /// <summary>Evidence of the latest prediction, as JSON.</summary>
    public required string EvidenceJson { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset LastPredictedAt { get; set; }

    /// <summary>PostgreSQL's xmin: concurrent updates of the same work order retry instead of losing a count.</summary>
    public uint Version { get; set; }
}
