namespace PdM.Contracts.Decisions;

/// <summary>
/// A gateway decided that an asset is heading for a failure. Published through the gateway's uplink;
/// consumed by Maintenance (cases, work orders) and Lineage.
/// </summary>
public sealed record FailurePredicted
{
    /// <summary>
    /// Stable id of this prediction: consumers deduplicate on it. The gateway derives it from the site, the asset and
    /// the end of the decided window, so a window decided again (after a crash) has the same id.
    /// </summary>
    public required Guid PredictionId { get; init; }

    public required string SiteId { get; init; }

    public required string AssetId { get; init; }

    /// <summary>ISO 14224 failure-mode code for the asset's equipment class (e.g. VIB, OHE, ELP).</summary>
    public required string FailureMode { get; init; }

    public required FailureSeverity Severity { get; init; }

    public required HealthState HealthState { get; init; }

    /// <summary>0..1: the model's probability, or the ruleset's fixed confidence.</summary>
    public required double Confidence { get; init; }

    /// <summary>Remaining useful life, when the deciding path estimates one.</summary>
    public RulEstimate? RemainingUsefulLife { get; init; }

    public required IReadOnlyList<Evidence> Evidence { get; init; }

    public required DecisionProvenance Provenance { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>ISO 14224 severity. A prediction is normally incipient; a rule may see degraded or critical.</summary>
public enum FailureSeverity
{
    Incipient = 0,
    Degraded = 1,
    Critical = 2,
}

/// <summary>ISO 13374 health assessment outcome, coarse enough to compare across models and rules.</summary>
public enum HealthState
{
    Healthy = 0,
    Watch = 1,
    Alert = 2,
    Danger = 3,
}

public enum RulUnit
{
    Hours = 0,
    Cycles = 1,
}

/// <summary>RUL quantiles; P10/P90 are optional for point estimators.</summary>
public sealed record RulEstimate(RulUnit Unit, double P50, double? P10 = null, double? P90 = null);

/// <summary>One observation that justifies a decision: what was seen, against which limit, over which window.</summary>
public sealed record Evidence
{
    public required string Signal { get; init; }

    public required double Value { get; init; }

    public required string Unit { get; init; }

    public double? Limit { get; init; }

    public required DateTimeOffset WindowStart { get; init; }

    public required DateTimeOffset WindowEnd { get; init; }

    /// <summary>Where the data came from, e.g. the MQTT topic.</summary>
    public required string Source { get; init; }
}

public enum DecisionPath
{
    Model = 0,
    Rules = 1,
}

/// <summary>Which path decided and with what: the root of every work order's lineage.</summary>
public sealed record DecisionProvenance
{
    public required DecisionPath Path { get; init; }

    public required string GatewayId { get; init; }

    public string? ModelName { get; init; }

    public string? ModelVersion { get; init; }

    /// <summary>SHA-256 of the model package, lower-case hex.</summary>
    public string? ModelDigest { get; init; }

    public string? RulesetName { get; init; }

    public string? RulesetVersion { get; init; }

    public string? RuleName { get; init; }

    /// <summary>Why the rules decided instead of a model (no model, breaker open, out of distribution, …).</summary>
    public string? FallbackReason { get; init; }

    /// <summary>
    /// W3C trace id (32 hex digits) of the trace the decision's work order was handled in, from the gateway's decision
    /// through the bus and Maintenance to the CMMS call; set by Maintenance on the work order, null when not traced.
    /// </summary>
    public string? TraceId { get; init; }
}
