using PdM.Contracts.Decisions;

namespace PdM.Edge.Inference;

/// <summary>
/// What the gateway asks for one asset: the feature vector of one closed window, plus facts for the rules. A struct: the
/// gateway asks for every window it closes, and a request must not cost an allocation of its own.
/// </summary>
public readonly record struct DecisionRequest
{
    public required string AssetId { get; init; }

    public required string AssetClass { get; init; }

    /// <summary>Feature names in the order of <see cref="FeatureValues"/> (the deployed feature spec's order).</summary>
    public required IReadOnlyList<string> FeatureNames { get; init; }

    /// <summary>Read in place while the decision is pending: the caller must not change it before the task completes.</summary>
    public required ReadOnlyMemory<float> FeatureValues { get; init; }

    /// <summary>
    /// The exact (double) values of <see cref="FeatureValues"/>, same order, or empty. Only the rules read them, as facts
    /// by feature name (a planner reads 8.2 mm/s in the evidence, not 8.1999998); read in place like the features.
    /// </summary>
    public ReadOnlyMemory<double> ExactFeatureValues { get; init; }

    /// <summary>Latest raw value per sensor (e.g. <c>air_temperature_k</c>), for the rules fallback; null for none.</summary>
    public IReadOnlyDictionary<string, double>? SensorValues { get; init; }

    public required DateTimeOffset WindowStart { get; init; }

    public required DateTimeOffset WindowEnd { get; init; }

    /// <summary>Where the data came from (e.g. the MQTT topic); copied into evidence.</summary>
    public string? Source { get; init; }

    /// <summary>
    /// Shed by the gateway's inference budget: the rules decide instead of the class's model (reason <c>shed</c>), unless
    /// the rules judge the window Alert or Danger, which sends it to the model after all. Ignored when the model could
    /// not decide anyway (no model, breaker open): those keep their own reason.
    /// </summary>
    public bool Shed { get; init; }
}

/// <summary>
/// One decision about one asset, by the model or by the rules. <see cref="Provenance"/> says which path decided,
/// with what (model name/version/digest or ruleset name/version) and, for the rules, why the model did not.
/// A struct: the gateway decides for every window, and only what leaves the gateway (an event) may allocate.
/// </summary>
public readonly record struct Decision
{
    private readonly IReadOnlyList<Evidence>? _evidence;
    private readonly RulEstimate? _rul;
    private readonly RulUnit _rulUnit;
    private readonly double _rulP50;
    private readonly bool _hasModelRul;

    public required string AssetId { get; init; }

    public required string AssetClass { get; init; }

    public required HealthState HealthState { get; init; }

    /// <summary>Null when healthy.</summary>
    public FailureSeverity? Severity { get; init; }

    /// <summary>ISO 14224 failure-mode code (rules) or class name (failure-mode classifier); null when unknown.</summary>
    public string? FailureMode { get; init; }

    /// <summary>The model's failure probability, when it produces one.</summary>
    public double? FailureProbability { get; init; }

    /// <summary>The RUL estimate; a model's is built on each read (read it once per event that carries it).</summary>
    public RulEstimate? RemainingUsefulLife
    {
        get => _rul ?? (_hasModelRul ? new RulEstimate(_rulUnit, _rulP50) : null);
        init => _rul = value;
    }

    /// <summary>
    /// A model's RUL as unit and median: kept as two numbers so that a decision nobody reports allocates nothing
    /// (<see cref="RemainingUsefulLife"/> builds the estimate when an event needs it).
    /// </summary>
    public (RulUnit Unit, double P50)? ModelRul
    {
        get => _hasModelRul ? (_rulUnit, _rulP50) : null;
        init
        {
            _hasModelRul = value.HasValue;
            (_rulUnit, _rulP50) = value.GetValueOrDefault();
        }
    }

    /// <summary>The RUL's median (<see cref="RulEstimate.P50"/>) without building the estimate; null without one.</summary>
    public double? RulP50 => _rul?.P50 ?? (_hasModelRul ? _rulP50 : null);

    /// <summary>0..1: the model's failure probability (1 for a RUL-only model), or the ruleset's confidence.</summary>
    public required double Confidence { get; init; }

    public required DecisionProvenance Provenance { get; init; }

    /// <summary>Why the rules decided; null when the model decided. <c>Provenance.FallbackReason</c> holds its stable code.</summary>
    public FallbackReason? FallbackReason { get; init; }

    public required DateTimeOffset WindowStart { get; init; }

    public required DateTimeOffset WindowEnd { get; init; }

    public required DateTimeOffset DecidedAt { get; init; }

    public IReadOnlyList<Evidence> Evidence
    {
        get => _evidence ?? [];
        init => _evidence = value;
    }

    /// <summary>The model batch that scored this row (one model version per batch); null for rules decisions.</summary>
    public long? BatchId { get; init; }
}

/// <summary>Why the rules decided instead of the model. <see cref="FallbackReasons.ToCode"/> gives the stable string.</summary>
public enum FallbackReason
{
    /// <summary>No model is deployed for the asset class.</summary>
    NoModel,

    /// <summary>A model was deployed for the class but failed to load or validate.</summary>
    LoadFailed,

    /// <summary>ONNX Runtime failed while running the batch.</summary>
    RunFailed,

    /// <summary>The model's circuit breaker is open after consecutive failures or timeouts.</summary>
    BreakerOpen,

    /// <summary>A feature lies outside the training range widened by the configured margin.</summary>
    OutOfDistribution,

    /// <summary>The model produced NaN/Inf, a probability outside [0, 1] or a negative RUL.</summary>
    InvalidOutput,

    /// <summary>The batch did not finish within the per-batch timeout.</summary>
    Timeout,

    /// <summary>The request's features are not the deployed model's feature spec (names or count differ).</summary>
    FeatureMismatch,

    /// <summary>The gateway fell behind and its inference budget moved this healthy asset's window to the rules.</summary>
    Shed,
}

public static class FallbackReasons
{
    /// <summary>Stable snake_case code used in decisions, metrics and audit; never changes once published.</summary>
    public static string ToCode(this FallbackReason reason) => reason switch
    {
        FallbackReason.NoModel => "no_model",
        FallbackReason.LoadFailed => "load_failed",
        FallbackReason.RunFailed => "run_failed",
        FallbackReason.BreakerOpen => "breaker_open",
        FallbackReason.OutOfDistribution => "out_of_distribution",
        FallbackReason.InvalidOutput => "invalid_output",
        FallbackReason.Timeout => "timeout",
        FallbackReason.FeatureMismatch => "feature_mismatch",
        FallbackReason.Shed => "shed",
        _ => "unknown",
    };
}

/// <summary>
/// The rules fallback as the decision policy sees it. The policy stamps the path (Rules), the fallback reason
/// and the window onto whatever this returns, so implementations only decide.
/// </summary>
public interface IFallbackDecider
{
    ValueTask<Decision> DecideAsync(FallbackRequest request, CancellationToken cancellationToken);
}

public sealed record FallbackRequest
{
    public required string AssetId { get; init; }

    public required string AssetClass { get; init; }

    public required IReadOnlyList<string> FeatureNames { get; init; }

    public required ReadOnlyMemory<float> FeatureValues { get; init; }

    public required IReadOnlyDictionary<string, double> SensorValues { get; init; }

    public required DateTimeOffset WindowStart { get; init; }

    public required DateTimeOffset WindowEnd { get; init; }

    public string? Source { get; init; }

    public required FallbackReason Reason { get; init; }

    public required string GatewayId { get; init; }
}
