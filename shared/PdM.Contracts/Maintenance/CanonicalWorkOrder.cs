using System.Text.Json.Serialization;

namespace PdM.Contracts.Maintenance;

/// <summary>
/// The canonical PdM work order (schema <c>pdm.workorder/v1</c>, INTEGRATIONS.md §5): the ISO 13374 advisory-generation
/// output with the health and prognosis results that justify it, and the ISO 14224 failure coding. It is what every
/// CMMS adapter maps from and what the webhook adapter sends as is.
/// </summary>
public sealed record CanonicalWorkOrder
{
    public const string SchemaV1 = "pdm.workorder/v1";

    public string Schema { get; init; } = SchemaV1;

    /// <summary>Our key in the CMMS (Maximo externalrefid, SAP MaintNotifExtReferenceNumber): one key, one record.</summary>
    public required string ExternalKey { get; init; }

    public required Guid WorkOrderId { get; init; }

    public required Guid CaseId { get; init; }

    public required string SiteId { get; init; }

    /// <summary><c>request</c> (a human triages it: Maximo SR, SAP M1) or <c>workOrder</c> (policy allows direct creation).</summary>
    public required string Kind { get; init; }

    public required CanonicalAsset Asset { get; init; }

    public required CanonicalFailure Failure { get; init; }

    public CanonicalHealth? Health { get; init; }

    public required CanonicalPrognosis Prognosis { get; init; }

    public required IReadOnlyList<CanonicalEvidence> Evidence { get; init; }

    public required CanonicalRecommendation Recommendation { get; init; }

    /// <summary>How many predictions the case has folded in so far.</summary>
    public int PredictionCount { get; init; }

    public required DateTimeOffset IssuedAt { get; init; }
}

/// <summary>ISO 14224 taxonomy levels 6–8 of the asset, plus where it lives in each CMMS.</summary>
public sealed record CanonicalAsset
{
    public required string Id { get; init; }

    /// <summary>ISO 14224 equipment class code (PU pump, CO compressor, EM electric motor, …).</summary>
    public string? EquipmentClass { get; init; }

    public string? Subunit { get; init; }

    public string? MaintainableItem { get; init; }

    /// <summary>A (critical) / B / C.</summary>
    public string? Criticality { get; init; }

    public required CmmsReferences CmmsRef { get; init; }
}

public sealed record CmmsReferences
{
    public MaximoAssetReference? Maximo { get; init; }

    public SapTechnicalObjectReference? Sap { get; init; }
}

public sealed record MaximoAssetReference
{
    [JsonPropertyName("siteid")]
    public required string SiteId { get; init; }

    [JsonPropertyName("assetnum")]
    public string? AssetNum { get; init; }

    [JsonPropertyName("location")]
    public string? Location { get; init; }

    /// <summary>Maximo failure class (the <c>failurecode</c> at the top of the failure hierarchy).</summary>
    [JsonPropertyName("failurecode")]
    public string? FailureClass { get; init; }
}

public sealed record SapTechnicalObjectReference
{
    [JsonPropertyName("TechnicalObject")]
    public required string TechnicalObject { get; init; }

    /// <summary><c>EAMS_EQUI</c> (equipment) or <c>EAMS_FL</c> (functional location).</summary>
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    [JsonPropertyName("plant")]
    public string? Plant { get; init; }

    [JsonPropertyName("workCenter")]
    public string? WorkCenter { get; init; }

    [JsonPropertyName("plannerGroup")]
    public string? PlannerGroup { get; init; }
}

public sealed record CanonicalFailure
{
    /// <summary>ISO 14224 failure-mode code for the equipment class (VIB, NOI, OHE, ELP, BRD, FTS, …).</summary>
    public required string Mode { get; init; }

    /// <summary>ISO 14224 Table B.2 failure mechanism (e.g. 2.4 wear), when the site's catalogue maps the mode.</summary>
    public string? Mechanism { get; init; }

    public string? Cause { get; init; }

    public required string Detection { get; init; }

    /// <summary><c>incipient</c>, <c>degraded</c> or <c>critical</c>; a prediction is normally incipient.</summary>
    public required string Severity { get; init; }
}

public sealed record CanonicalHealth
{
    public double? Index { get; init; }

    /// <summary><c>healthy</c>, <c>watch</c>, <c>alert</c> or <c>danger</c>.</summary>
    public required string State { get; init; }
}

public sealed record CanonicalPrognosis
{
    public RulQuantiles? RulHours { get; init; }

    public RulQuantiles? RulCycles { get; init; }

    public DateTimeOffset? PredictedFailureAt { get; init; }

    public required double Confidence { get; init; }

    public required CanonicalDecisionSource Model { get; init; }
}

public sealed record RulQuantiles
{
    public double? P10 { get; init; }

    public required double P50 { get; init; }

    public double? P90 { get; init; }
}

/// <summary>What decided: a model (name, version, digest) or a ruleset (name, version, rule), and from which gateway.</summary>
public sealed record CanonicalDecisionSource
{
    /// <summary><c>model</c> or <c>rules</c>.</summary>
    public required string Path { get; init; }

    public string? Name { get; init; }

    public string? Version { get; init; }

    public string? Digest { get; init; }

    public string? Rule { get; init; }

    public string? FallbackReason { get; init; }

    public required string GatewayId { get; init; }
}

public sealed record CanonicalEvidence
{
    public required string Signal { get; init; }

    public required double Value { get; init; }

    public required string Unit { get; init; }

    public double? Limit { get; init; }

    public required DateTimeOffset From { get; init; }

    public required DateTimeOffset To { get; init; }

    public required string Source { get; init; }
}

public sealed record CanonicalRecommendation
{
    /// <summary>ISO 14224 maintenance activity: Replace, Repair, Adjust, Check, Overhaul, Inspect, …</summary>
    public required string Activity { get; init; }

    public required string Text { get; init; }

    /// <summary><c>URGENT</c>, <c>HIGH</c>, <c>MEDIUM</c> or <c>LOW</c>.</summary>
    public required string Priority { get; init; }

    public required DateTimeOffset LatestFinish { get; init; }

    public double? EstHours { get; init; }

    public bool? DowntimeRequired { get; init; }
}
