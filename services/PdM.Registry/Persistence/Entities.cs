using PdM.Contracts.Registry;

namespace PdM.Registry.Persistence;

/// <summary>A model name and the asset class it serves; its versions are <see cref="ModelVersionRecord"/>s.</summary>
public sealed class RegisteredModel
{
    public required string Name { get; set; }

    public required string AssetClass { get; set; }

    public required string CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>One uploaded, validated version: its content addresses, who uploaded it and, once approved, its signature.</summary>
public sealed class ModelVersionRecord
{
    public Guid Id { get; set; }

    public required string ModelName { get; set; }

    public required string Version { get; set; }

    public required string AssetClass { get; set; }

    /// <summary>PdM.ModelPackage.PackageDigest of model + manifest, lower-case hex.</summary>
    public required string PackageDigest { get; set; }

    /// <summary>SHA-256 of the stored package zip (the artifact gateways download).</summary>
    public required string ArtifactSha256 { get; set; }

    public long ArtifactBytes { get; set; }

    /// <summary>The manifest exactly as uploaded (text, not jsonb: jsonb would re-format it).</summary>
    public required string ManifestJson { get; set; }

    public required string UploadedBy { get; set; }

    public DateTimeOffset UploadedAt { get; set; }

    public string? Signature { get; set; }

    public string? SigningKeyId { get; set; }

    public string? ApprovedBy { get; set; }

    public DateTimeOffset? ApprovedAt { get; set; }

    /// <summary>The platform training run that produced the package (registered from <c>RegisterTrainedModel</c>); one version per run.</summary>
    public Guid? TrainingRunId { get; set; }

    /// <summary>The feature-store snapshot the run learned from.</summary>
    public Guid? DatasetSnapshotId { get; set; }

    /// <summary><c>sha256:</c> + hex of the snapshot's rows (from the run, else from the manifest's provenance).</summary>
    public string? DatasetDigest { get; set; }
}

public enum DeploymentStatus
{
    /// <summary>Asked of the site's gateways; no answer yet.</summary>
    Requested = 0,

    Succeeded = 1,

    Failed = 2,

    /// <summary>The gateway rolled this version back on its own.</summary>
    RolledBack = 3,

    /// <summary>Archived: replaced by another version in the same stage, or archived by a person.</summary>
    Retired = 4,
}

/// <summary>A version's stage at one site and the state of its deployment there.</summary>
public sealed class SiteDeployment
{
    public Guid VersionId { get; set; }

    public required string SiteId { get; set; }

    public ModelStage Stage { get; set; }

    public double? CanaryShare { get; set; }

    public DeploymentStatus Status { get; set; }

    public Guid? DeploymentId { get; set; }

    public string? GatewayId { get; set; }

    public string? Detail { get; set; }

    public required string PromotedBy { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One shadow-statistics report of a gateway about a candidate package (ShadowEvaluationReported).</summary>
public sealed class ShadowEvaluation
{
    public Guid EventId { get; set; }

    public required string CandidateDigest { get; set; }

    public required string GatewayId { get; set; }

    /// <summary>The reporting gateway's site; null for reports from gateways that predate it (never counted as a site's evidence).</summary>
    public string? SiteId { get; set; }

    public required string AssetClass { get; set; }

    public long ComparedRows { get; set; }

    public long AgreedRows { get; set; }

    public long CandidateFailedRows { get; set; }

    public DateTimeOffset PeriodStart { get; set; }

    public DateTimeOffset PeriodEnd { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>A gateway's report that a version's scored rows drifted from its training distribution (ModelDriftDetected).</summary>
public sealed class ModelDrift
{
    public Guid EventId { get; set; }

    public required string ModelDigest { get; set; }

    public required string GatewayId { get; set; }

    public string? SiteId { get; set; }

    public required string AssetClass { get; set; }

    /// <summary>The feature with the highest PSI.</summary>
    public required string Feature { get; set; }

    public double Psi { get; set; }

    public double Threshold { get; set; }

    /// <summary>Every feature's PSI at the crossing, as the JSON object the gateway sent.</summary>
    public required string FeaturePsi { get; set; }

    public int WindowRows { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>
/// A trained package the registry refused (<c>RegisterTrainedModel</c> that failed validation or conflicted), kept so
/// the refusal is visible and a redelivered command is answered from here instead of validated again.
/// </summary>
public sealed class TrainedModelRejection
{
    public Guid TrainingRunId { get; set; }

    public Guid DatasetSnapshotId { get; set; }

    public required string ModelName { get; set; }

    public required string ModelVersion { get; set; }

    public required string RequestedBy { get; set; }

    public string? PackageDigest { get; set; }

    public required string Reason { get; set; }

    public required string Detail { get; set; }

    public DateTimeOffset RejectedAt { get; set; }
}

/// <summary>
/// A planner's recorded outcome of a work order (<c>MaintenanceOutcomeRecorded</c>), filed under the model version or
/// ruleset that decided it: what a version's live precision is counted from. Keyed by the outcome id, so a redelivered
/// event counts once.
/// </summary>
public sealed class DecisionOutcome
{
    public Guid OutcomeId { get; set; }

    /// <summary><c>model</c> or <c>rules</c>: which kind of decider <see cref="Name"/> names.</summary>
    public required string Path { get; set; }

    public required string Name { get; set; }

    public required string Version { get; set; }

    /// <summary>The model package's digest (models only).</summary>
    public string? Digest { get; set; }

    public required string SiteId { get; set; }

    public required string AssetId { get; set; }

    public required string FailureMode { get; set; }

    public bool FailureConfirmed { get; set; }

    public string? FailureCode { get; set; }

    public required string Source { get; set; }

    public Guid WorkOrderId { get; set; }

    public DateTimeOffset ClosedAt { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>The latest heartbeat of one gateway (<c>GatewayHeartbeat</c>): what <c>GET /api/gateways</c> lists.</summary>
public sealed class GatewayStatus
{
    public required string GatewayId { get; set; }

    public required string SiteId { get; set; }

    /// <summary>When the gateway took the heartbeat (its clock).</summary>
    public DateTimeOffset HeartbeatAt { get; set; }

    /// <summary>When the registry received it (its clock).</summary>
    public DateTimeOffset ReceivedAt { get; set; }

    public int IntervalSeconds { get; set; }

    /// <summary>Registry receipt minus the gateway's send time of the heartbeat (its publish, not its journal time); null when the message carried no send time.</summary>
    public double? ClockOffsetMs { get; set; }

    public required string GatewayVersion { get; set; }

    public string? EgressPolicyVersion { get; set; }

    /// <summary>The whole heartbeat as the gateway sent it (jsonb).</summary>
    public required string Heartbeat { get; set; }
}

/// <summary>
/// The model card a version was pushed with (<c>model-card.json</c>: its evaluation figures), kept apart from the
/// version row so listings never carry it. <c>GET …/card</c> renders it with the gateways' shadow agreement.
/// </summary>
public sealed class ModelCardRecord
{
    public Guid VersionId { get; set; }

    /// <summary>The card exactly as uploaded (text: served back as sent).</summary>
    public required string CardJson { get; set; }
}
