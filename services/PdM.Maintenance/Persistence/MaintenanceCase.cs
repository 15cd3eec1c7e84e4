using PdM.Contracts.Maintenance;

namespace PdM.Maintenance.Persistence;

public enum CaseStatus
{
    Open = 0,
    Closed = 1,
}

/// <summary>
/// One problem: all predictions of the same (site, asset, failure mode) while it is open. It owns one CMMS record
/// (<see cref="WorkOrder"/>); when that record closes, the case records the outcome and a cooldown starts during which
/// the same condition is folded into it instead of opening a new case.
/// </summary>
public sealed class MaintenanceCase
{
    public const int MaxSourcePredictionIds = 50;

    public Guid Id { get; set; }

    public required string SiteId { get; set; }

    public required string AssetId { get; set; }

    public required string FailureMode { get; set; }

    public CaseStatus Status { get; set; }

    public Guid WorkOrderId { get; set; }

    public WorkOrderPriority Priority { get; set; }

    public required string Criticality { get; set; }

    public double Confidence { get; set; }

    public double? RulP50Hours { get; set; }

    public int PredictionCount { get; set; }

    /// <summary>Predictions of this condition that arrived during the cooldown after the case closed.</summary>
    public int SuppressedCount { get; set; }

    public int EscalationCount { get; set; }

    /// <summary>The first <see cref="MaxSourcePredictionIds"/> prediction ids and always the latest, as JSON (training-label lineage).</summary>
    public required string SourcePredictionIdsJson { get; set; }

    public DateTimeOffset OpenedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? ClosedAt { get; set; }

    public DateTimeOffset? CooldownUntil { get; set; }

    public MaintenanceOutcome? Outcome { get; set; }

    public string? FailureCode { get; set; }

    public uint Version { get; set; }
}
