using System.Text.Json;
using System.Text.Json.Serialization;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Persistence;

namespace PdM.Maintenance.Api;

/// <summary>A case: one problem (site, asset, failure mode), its predictions, its CMMS record and its outcome.</summary>
public sealed record CaseResponse(
    Guid Id,
    string SiteId,
    string AssetId,
    string FailureMode,
    string Status,
    WorkOrderPriority Priority,
    string Criticality,
    double Confidence,
    double? RulP50Hours,
    int PredictionCount,
    int SuppressedCount,
    int EscalationCount,
    IReadOnlyList<Guid> SourcePredictionIds,
    DateTimeOffset OpenedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? ClosedAt,
    DateTimeOffset? CooldownUntil,
    MaintenanceOutcome? Outcome,
    string? FailureCode,
    WorkOrderResponse? WorkOrder)
{
    public static CaseResponse From(MaintenanceCase c, WorkOrder? workOrder)
    {
        ArgumentNullException.ThrowIfNull(c);
        return new CaseResponse(c.Id, c.SiteId, c.AssetId, c.FailureMode, c.Status.ToString(), c.Priority, c.Criticality, c.Confidence,
            c.RulP50Hours, c.PredictionCount, c.SuppressedCount, c.EscalationCount,
            JsonSerializer.Deserialize(c.SourcePredictionIdsJson, MaintenanceJsonContext.Default.IReadOnlyListGuid) ?? [],
            c.OpenedAt, c.UpdatedAt, c.ClosedAt, c.CooldownUntil, c.Outcome, c.FailureCode,
            workOrder is null ? null : WorkOrderResponse.From(workOrder));
    }
}

/// <summary>A prediction Maintenance could not act on, and why.</summary>
public sealed record RejectionResponse(Guid Id, Guid PredictionId, string? SiteId, string? AssetId, string? FailureMode, string Reason, string Detail, DateTimeOffset ReceivedAt)
{
    public static RejectionResponse From(PredictionRejection r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new RejectionResponse(r.Id, r.PredictionId, r.SiteId, r.AssetId, r.FailureMode, r.Reason, r.Detail, r.ReceivedAt);
    }
}

/// <summary>Body of <c>POST /api/cases/{id}/outcome</c>: for webhook sites, or a planner closing a case by hand.</summary>
public sealed record OutcomeRequest(
    [property: JsonConverter(typeof(JsonStringEnumConverter<MaintenanceOutcome>))] MaintenanceOutcome Outcome,
    string? FailureCode,
    DateTimeOffset? ClosedAt);
