using System.Text.Json;
using PdM.Contracts;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Persistence;

namespace PdM.Maintenance.Api;

/// <summary>A work order as the API shows it: the CMMS-facing fields, the decision that raised it and where it lives in the CMMS.</summary>
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
    public Guid CaseId { get; init; }

    /// <summary><c>request</c> or <c>workOrder</c>.</summary>
    public string Kind { get; init; } = "workOrder";

    public string Criticality { get; init; } = "B";

    public DateTimeOffset? LatestFinish { get; init; }

    public CmmsReferenceResponse? Cmms { get; init; }

    public DateTimeOffset? ClosedAt { get; init; }

    public static WorkOrderResponse From(WorkOrder w)
    {
        ArgumentNullException.ThrowIfNull(w);
        return new WorkOrderResponse(
            w.Id, w.SiteId, w.AssetId, w.FailureMode, w.Status.ToString(), w.Priority, w.Severity, w.HealthState, w.Confidence,
            w.RulP50, w.RulUnit, w.ExternalKey, w.FirstPredictionId, w.LastPredictionId, w.PredictionCount,
            JsonSerializer.Deserialize(w.ProvenanceJson, ContractsJsonContext.Default.DecisionProvenance),
            JsonSerializer.Deserialize(w.EvidenceJson, ContractsJsonContext.Default.IReadOnlyListEvidence),
            w.CreatedAt, w.UpdatedAt)
        {
            CaseId = w.CaseId,
            Kind = w.Kind,
            Criticality = w.Criticality,
            LatestFinish = w.LatestFinish,
            ClosedAt = w.ClosedAt,
            Cmms = new CmmsReferenceResponse(w.CmmsSystem, w.CmmsRecordId, w.CmmsUrl, w.CmmsStatus, w.DeliveryState.ToString(),
                w.DeliveryError, w.DeliveredAt, w.LastSyncedAt, w.CmmsReference, w.SyncFailures, w.NextSyncAt, w.ParkedReason),
        };
    }
}

/// <summary>
/// Where the work order is in the CMMS and how its delivery went. <c>Reference</c> is the value the CMMS keeps as our key
/// (SAP MaintNotifExtReferenceNumber, Maximo externalrefid/externalrecid); <c>SyncFailures</c>/<c>NextSyncAt</c> say
/// whether the status sync is backing off from this record; <c>ParkedReason</c> is the CMMS's code while the delivery
/// is parked.
/// </summary>
public sealed record CmmsReferenceResponse(
    string System, string? RecordId, string? Url, string? Status, string Delivery, string? DeliveryError, DateTimeOffset? DeliveredAt, DateTimeOffset? LastSyncedAt,
    string? Reference = null, int SyncFailures = 0, DateTimeOffset? NextSyncAt = null, string? ParkedReason = null);
