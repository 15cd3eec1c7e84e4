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
/// never one per window. Written by the pipeline thread, read by HTTP requests. Recording a decision allocates nothing
/// once the asset is known: each asset's entry is updated in place and the view is built when someone asks.
/// </summary>
public sealed partial class DecisionBoard(ILogger<DecisionBoard> logger)
{
    private readonly ConcurrentDictionary<string, Entry> _latest = new(StringComparer.Ordinal);

    /// <summary>Every asset's latest decision, ordered by asset id.</summary>
    public IReadOnlyList<AssetDecisionView> Latest()
    {
        var views = new List<AssetDecisionView>(_latest.Count);
        foreach (var entry in _latest.Values)
        {
            views.Add(entry.View());
        }

        views.Sort(static (a, b) => string.CompareOrdinal(a.AssetId, b.AssetId));
        return views;
    }

    public bool TryGet(string assetId, out AssetDecisionView? view)
    {
        view = _latest.TryGetValue(assetId, out var entry) ? entry.View() : null;
        return view is not null;
    }

    /// <summary>Records a decision; logs it when the asset's path, model or health state changed.</summary>
    public void Record(in Decision decision, ClassFeatureSpec features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (!_latest.TryGetValue(decision.AssetId, out var entry))
        {
            entry = _latest.GetOrAdd(decision.AssetId, static id => new Entry(id));
        }

        if (entry.Update(in decision, features) && logger.IsEnabled(LogLevel.Information))
        {
            var line = Describe(entry.View());
            LogChanged(logger, decision.AssetId, line);
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

    /// <summary>One asset's latest decision, overwritten in place under its own lock (the pipeline writes, HTTP reads).</summary>
    private sealed class Entry(string assetId)
    {
        private readonly Lock _lock = new();
        private bool _any;
        private string _assetClass = "";
        private HealthState _healthState;
        private string? _failureMode;
        private double? _rulCycles;
        private double? _failureProbability;
        private double _confidence;
        private DecisionProvenance _provenance = new() { Path = DecisionPath.Rules, GatewayId = "" };
        private ClassFeatureSpec? _features;
        private DateTimeOffset _windowEnd;
        private DateTimeOffset _decidedAt;

        /// <summary>Takes the decision; true when the path, health state, model or fallback reason changed (or it is the first).</summary>
        public bool Update(in Decision decision, ClassFeatureSpec features)
        {
            var provenance = decision.Provenance;
            lock (_lock)
            {
                var changed = !_any
                    || _provenance.Path != provenance.Path
                    || _healthState != decision.HealthState
                    || !string.Equals(_provenance.ModelDigest, provenance.ModelDigest, StringComparison.Ordinal)
                    || !string.Equals(_provenance.FallbackReason, provenance.FallbackReason, StringComparison.Ordinal);
                _any = true;
                _assetClass = decision.AssetClass;
                _healthState = decision.HealthState;
                _failureMode = decision.FailureMode;
                _rulCycles = decision.RulP50;
                _failureProbability = decision.FailureProbability;
                _confidence = decision.Confidence;
                _provenance = provenance;
                _features = features;
                _windowEnd = decision.WindowEnd;
                _decidedAt = decision.DecidedAt;
                return changed;
            }
        }

        public AssetDecisionView View()
        {
            lock (_lock)
            {
                return new AssetDecisionView
                {
                    AssetId = assetId,
                    AssetClass = _assetClass,
                    HealthState = _healthState,
                    Path = _provenance.Path == DecisionPath.Model ? "model" : "rules",
                    FailureMode = _failureMode,
                    RulCycles = _rulCycles,
                    FailureProbability = _failureProbability,
                    Confidence = _confidence,
                    ModelName = _provenance.ModelName,
                    ModelVersion = _provenance.ModelVersion,
                    ModelDigest = _provenance.ModelDigest,
                    RulesetName = _provenance.RulesetName,
                    RulesetVersion = _provenance.RulesetVersion,
                    FallbackReason = _provenance.FallbackReason,
                    FeatureSpec = _features!.Name,
                    FeatureSpecDigest = _features.Digest,
                    WindowEnd = _windowEnd,
                    DecidedAt = _decidedAt,
                };
            }
        }
    }
}
