using System.Collections.Concurrent;
using System.Globalization;
using PdM.Contracts.Decisions;
using PdM.Edge.Inference;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>What <c>GET /api/edge/decisions/latest</c> shows for one asset: its last decision and who made it.</summary>
public sealed record AssetDecisionView
{
    public required string AssetId { get; init; }

    public required string AssetClass { get; init; }

    public required HealthState HealthState { get; init; }

    /// <summary><c>model</c> or <c>rules</c>.</summary>
    public required string Path { get; init; }

    public string? FailureMode { get; init; }

    public double? RulCycles { get; init; }

    public double? FailureProbability { get; init; }

    public required double Confidence { get; init; }

    public string? ModelName { get; init; }

    public string? ModelVersion { get; init; }

    public string? ModelDigest { get; init; }

    public string? RulesetName { get; init; }

    public string? RulesetVersion { get; init; }

    /// <summary>Why the rules decided (e.g. <c>no_model</c>); null when the model did.</summary>
    public string? FallbackReason { get; init; }

    /// <summary>The feature spec the window was computed with (name and digest).</summary>
    public required string FeatureSpec { get; init; }

    public required string FeatureSpecDigest { get; init; }

    public required DateTimeOffset WindowEnd { get; init; }

    public required DateTimeOffset DecidedAt { get; init; }
}

/// <summary>
/// The latest decision per asset, for the API, and the console line that shows a switch: one line when an asset's
/// path (rules ↔ model), model version or health state changes, e.g. <c>ENGINE-031 rul=42 path=model fd001-rul@1.0.0</c>,
/// never one per window. Written by the pipeline thread, read by HTTP requests.
/// </summary>
public sealed partial class DecisionBoard(ILogger<DecisionBoard> logger)
{
    private readonly ConcurrentDictionary<string, AssetDecisionView> _latest = new(StringComparer.Ordinal);

    /// <summary>Every asset's latest decision, ordered by asset id.</summary>
    public IReadOnlyList<AssetDecisionView> Latest()
    {
        var views = new List<AssetDecisionView>(_latest.Values);
        views.Sort(static (a, b) => string.CompareOrdinal(a.AssetId, b.AssetId));
        return views;
    }

    public bool TryGet(string assetId, out AssetDecisionView? view) => _latest.TryGetValue(assetId, out view);

    /// <summary>Records a decision; logs it when the asset's path, model or health state changed.</summary>
    public void Record(Decision decision, ClassFeatureSpec features)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(features);
        var provenance = decision.Provenance;
        var view = new AssetDecisionView
        {
            AssetId = decision.AssetId,
            AssetClass = decision.AssetClass,
            HealthState = decision.HealthState,
            Path = provenance.Path == DecisionPath.Model ? "model" : "rules",
            FailureMode = decision.FailureMode,
            RulCycles = decision.RemainingUsefulLife?.P50,
            FailureProbability = decision.FailureProbability,
            Confidence = decision.Confidence,
            ModelName = provenance.ModelName,
            ModelVersion = provenance.ModelVersion,
            ModelDigest = provenance.ModelDigest,
            RulesetName = provenance.RulesetName,
            RulesetVersion = provenance.RulesetVersion,
            FallbackReason = provenance.FallbackReason,
            FeatureSpec = features.Name,
            FeatureSpecDigest = features.Digest,
            WindowEnd = decision.WindowEnd,
            DecidedAt = decision.DecidedAt,
        };

        _latest.TryGetValue(decision.AssetId, out var previous);
        _latest[decision.AssetId] = view;
        if (previous is null
            || previous.Path != view.Path
            || previous.HealthState != view.HealthState
            || !string.Equals(previous.ModelDigest, view.ModelDigest, StringComparison.Ordinal)
            || !string.Equals(previous.FallbackReason, view.FallbackReason, StringComparison.Ordinal))
        {
            if (logger.IsEnabled(LogLevel.Information))
            {
                var line = Describe(view);
                LogChanged(logger, view.AssetId, line);
            }
        }
    }

    /// <summary>The console form: <c>rul=42 path=model fd001-rul@1.0.0 state=Watch</c> or <c>path=rules (no_model) turbofan-rules@1.0.0 state=Healthy</c>.</summary>
    public static string Describe(AssetDecisionView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var c = CultureInfo.InvariantCulture;
        var rul = view.RulCycles is { } r ? string.Create(c, $"rul={r:0} ") : string.Empty;
        var failure = view.FailureMode is { } mode ? " mode=" + mode : string.Empty;
        return view.Path == "model"
            ? string.Create(c, $"{rul}path=model {view.ModelName}@{view.ModelVersion} state={view.HealthState}{failure}")
            : string.Create(c, $"{rul}path=rules ({view.FallbackReason}) {(view.RulesetName is null ? "no ruleset" : view.RulesetName + "@" + view.RulesetVersion)} state={view.HealthState}{failure}");
    }

    [LoggerMessage(EventId = 1110, Level = LogLevel.Information, Message = "{AssetId} {Decision}")]
    private static partial void LogChanged(ILogger logger, string assetId, string decision);
}
