using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;

namespace PdM.Maintenance.Persistence;

public enum WorkOrderStatus
{
    Open = 0,
    Closed = 1,
}

public enum DeliveryState
{
    /// <summary>Waiting in the outbox (or retrying).</summary>
    Pending = 0,
    Delivered = 1,

    /// <summary>Parked: authentication or contract failure, or retries exhausted. An operator must act.</summary>
    Failed = 2,

    /// <summary>The site has no CMMS adapter: the work order is kept and logged only.</summary>
    NotConfigured = 3,
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

    public Guid CaseId { get; set; }

    /// <summary><c>request</c> (Maximo SR, SAP M1) or <c>workOrder</c> (Maximo WO, SAP M2), fixed when the record is created.</summary>
    public string Kind { get; set; } = "workOrder";

    /// <summary>Asset criticality A/B/C from the site's registry.</summary>
    public string Criticality { get; set; } = "B";

    public DateTimeOffset? LatestFinish { get; set; }

    /// <summary><c>maximo</c>, <c>sap</c>, <c>webhook</c> or <c>none</c>.</summary>
    public string CmmsSystem { get; set; } = "none";

    /// <summary>The record's id in the CMMS (Maximo ticketid/wonum, SAP notification number) once delivered.</summary>
    public string? CmmsRecordId { get; set; }

    /// <summary>
    /// The value the CMMS keeps as our key (SAP <c>MaintNotifExtReferenceNumber</c>, Maximo <c>externalrefid</c> /
    /// <c>externalrecid</c>, the webhook's <c>externalKey</c>), fitted to the vendor's field and looked up before every
    /// create. Set with the first delivery attempt and never changed, so a retry cannot make a second record.
    /// </summary>
    public string? CmmsReference { get; set; }

    /// <summary>The record's URI in the CMMS (Maximo resource href, SAP entity URI), always absolute.</summary>
    public string? CmmsUrl { get; set; }

    /// <summary>The record's status as last seen in the CMMS (NEW, WAPPR, CLOSE, phase 4, …).</summary>
    public string? CmmsStatus { get; set; }

    public DeliveryState DeliveryState { get; set; }

    /// <summary>Why the last delivery failed, in words an operator can act on.</summary>
    public string? DeliveryError { get; set; }

    /// <summary>
    /// While parked: the countable reason, the CMMS's own code when it gave one (BMXAA4049E, /IWBEP/CM_MGW_RT/022,
    /// IW/051) or auth_failed / rejected / retries_exhausted.
    /// </summary>
    public string? ParkedReason { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }

    public DateTimeOffset? LastSyncedAt { get; set; }

    /// <summary>Status reads that failed in a row; the status sync backs off from this record, not from the others.</summary>
    public int SyncFailures { get; set; }

    /// <summary>When the status sync may read this record again after a failure (null: in every round).</summary>
    public DateTimeOffset? NextSyncAt { get; set; }

    public DateTimeOffset? ClosedAt { get; set; }

    /// <summary>PostgreSQL's xmin: concurrent updates of the same work order retry instead of losing a count.</summary>
    public uint Version { get; set; }
}
