using System.Text.Json;
using PdM.Contracts;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Persistence;

namespace PdM.Maintenance.Api;

/// <summary>A work order as the API shows it: the CMMS-facing fields plus the decision that raised it.</summary>
public sealed record WorkOrderResponse(
    Guid Id,
    string SiteId,
    string AssetId,
    string FailureMode,
    string Status,
    WorkOrderPriority Priority,
    FailureSeverity Severity,
    HealthState HealthState,
    double Confidence,
    double? RulP50,
    RulUnit? RulUnit,
    string ExternalKey,
    Guid FirstPredictionId,
    Guid LastPredictionId,
    int PredictionCount,
    DecisionProvenance? Provenance,
    IReadOnlyList<Evidence>? Evidence,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static WorkOrderResponse From(WorkOrder w)
    {
        ArgumentNullException.ThrowIfNull(w);
        return new WorkOrderResponse(
            w.Id, w.SiteId, w.AssetId, w.FailureMode, w.Status.ToString(), w.Priority, w.Severity, w.HealthState, w.Confidence,
            w.RulP50, w.RulUnit, w.ExternalKey, w.FirstPredictionId, w.LastPredictionId, w.PredictionCount,
            JsonSerializer.Deserialize(w.ProvenanceJson, ContractsJsonContext.Default.DecisionProvenance),
            JsonSerializer.Deserialize(w.EvidenceJson, ContractsJsonContext.Default.IReadOnlyListEvidence),
            w.CreatedAt, w.UpdatedAt);
    }
}
