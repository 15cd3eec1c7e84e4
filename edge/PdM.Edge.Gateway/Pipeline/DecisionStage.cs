using System.Diagnostics;
using Microsoft.Extensions.Options;
using PdM.Contracts.Decisions;
using PdM.Contracts.Models;
using PdM.Edge.Inference;
using PdM.Edge.Ingestion.Model;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// Turns each closed feature window into a decision (the deployed model, or the rules when the model cannot be
/// trusted: <see cref="DecisionPolicy"/>) and the decision into events: <see cref="FailurePredicted"/> when an asset
/// enters an alert state or escalates, and a periodic <see cref="AssetHealthAssessed"/> per asset.
/// </summary>
public sealed partial class DecisionStage
{
    private readonly DecisionPolicy _policy;
    private readonly AssetModel _assets;
    private readonly GatewayOptions _options;
    private readonly TimeProvider _clock;
    private readonly DecisionBoard _board;
    private readonly Shedding.InferenceBudget _budget;
    private readonly Dictionary<string, HealthState> _alerted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _lastAssessed = new(StringComparer.Ordinal);
    private readonly ILogger<DecisionStage> _logger;
    private readonly List<DecisionRequest> _requests = [];
    private readonly List<int> _windowOfRequest = [];
    private readonly List<Shedding.ShedReason?> _shedOfRequest = [];
    private readonly List<ClassFeatureSpec> _specs = [];
    private readonly List<Decision> _decisions = [];
    private readonly List<int> _requestOfDecision = [];

    public DecisionStage(DecisionPolicy policy, AssetModel assets, DecisionBoard board, Shedding.InferenceBudget budget, IOptions<GatewayOptions> options,
        TimeProvider clock, ILogger<DecisionStage> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _policy = policy;
        _assets = assets;
        _board = board;
        _budget = budget;
        _options = options.Value;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>
    /// Decides every closed window and appends what each decision causes, in window order. The windows go to the policy
    /// together (<see cref="DecisionPolicy.DecideAllAsync"/>), so windows that close together (many assets at one
    /// watermark, or every window of a batch of messages) share one model batch per asset class.
    /// <paramref name="sources"/> holds, per window, where its data came from (the MQTT topic).
    /// <para>
    /// A window whose decision throws fails alone: when the batch call fails, the windows it had not decided yet are
    /// decided one at a time, and each that throws again, or whose events cannot be built, goes to
    /// <paramref name="poisoned"/> instead of <paramref name="events"/>.
    /// </para>
    /// </summary>
    public async Task DecideAsync(IReadOnlyList<ClosedWindow> windows, IReadOnlyList<string> sources, List<DecisionEvents> events,
        List<PoisonedWindow> poisoned, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(poisoned);
        if (windows.Count == 0)
        {
            return;
        }

        _requests.Clear();
        _specs.Clear();
        _windowOfRequest.Clear();
        _shedOfRequest.Clear();
        var now = _clock.GetUtcNow();
        for (var w = 0; w < windows.Count; w++)
        {
            var window = windows[w];
            if (_assets.TryGetAsset(window.AssetId, out var asset))
            {
                // The inference budget's triage (Gateway:Shedding): while the gateway is behind, a healthy asset's window
                // may go to the rules; an asset in trouble, or not decided yet, is always scored.
                var shed = _budget.ShedFor(asset.Id, now);
                // Each window carries its class's feature names: the deployed model of that class checks them.
                _requests.Add(new DecisionRequest
                {
                    AssetId = asset.Id,
                    AssetClass = asset.AssetClass,
                    FeatureNames = window.Features.FeatureNames,
                    FeatureValues = window.Values,
                    ExactFeatureValues = window.ExactValues,
                    WindowStart = DateTimeOffset.FromUnixTimeMilliseconds(window.WindowStartUnixMs),
                    WindowEnd = DateTimeOffset.FromUnixTimeMilliseconds(window.WindowEndUnixMs),
                    Source = sources[w],
                    Shed = shed is not null,
                });
                _specs.Add(window.Features);
                _windowOfRequest.Add(w);
                _shedOfRequest.Add(shed);
            }
        }

        _decisions.Clear();
        _requestOfDecision.Clear();
        var traced = GatewayTelemetry.ActivitySource.HasListeners();
        var started = traced ? _clock.GetUtcNow() : default;
        var startedTicks = Stopwatch.GetTimestamp();
        try
        {
            await _policy.DecideAllAsync(_requests, _decisions, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await DecideOneByOneAsync(exception, poisoned, cancellationToken);
        }
        finally
        {
            _budget.AddDeciding(Stopwatch.GetTimestamp() - startedTicks);
        }

        for (var r = _requestOfDecision.Count; r < _decisions.Count; r++)
        {
            _requestOfDecision.Add(r);
        }

        var batchMilliseconds = traced ? Stopwatch.GetElapsedTime(startedTicks).TotalMilliseconds : 0;
        for (var i = 0; i < _decisions.Count; i++)
        {
            var request = _requestOfDecision[i];
            var window = _windowOfRequest[request];
            try
            {
                var decision = _decisions[i];
                _budget.Decided(decision.AssetId, decision.HealthState, now);
                if (decision.FallbackReason == FallbackReason.Shed && _shedOfRequest[request] is { } shedReason)
                {
                    _budget.CountShed(shedReason);
                }

                var trace = traced ? DecisionTracing.Record(in decision, windows[window], started, batchMilliseconds) : default;
                _board.Record(in decision, _specs[request]);
                LogDecided(_logger, decision.AssetId, decision.WindowEnd, decision.Provenance.Path, decision.BatchId);
                var prediction = Prediction(in decision);
                var assessment = Assessment(in decision);
                if (prediction is not null || assessment is not null)
                {
                    events.Add(new DecisionEvents(window, prediction, assessment, trace));
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                poisoned.Add(new PoisonedWindow(window, exception));
            }
        }
    }

    /// <summary>
    /// After the batch call failed: the policy appends in request order, so what it decided before the failure stands;
    /// the rest are decided one at a time, and a row that throws again fails alone.
    /// </summary>
    private async Task DecideOneByOneAsync(Exception batchFailure, List<PoisonedWindow> poisoned, CancellationToken cancellationToken)
    {
        var decided = _decisions.Count;
        LogBatchFailed(_logger, batchFailure, _requests.Count - decided);
        for (var r = 0; r < decided; r++)
        {
            _requestOfDecision.Add(r);
        }

        for (var r = decided; r < _requests.Count; r++)
        {
            try
            {
                _decisions.Add(await _policy.DecideAsync(_requests[r], cancellationToken));
                _requestOfDecision.Add(r);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                poisoned.Add(new PoisonedWindow(_windowOfRequest[r], exception));
            }
        }
    }

    /// <summary>
    /// A prediction when the asset enters Alert/Danger or escalates from Alert to Danger; nothing while the condition
    /// merely persists (Maintenance folds repeats into one case anyway, but the uplink should not carry them), and
    /// the alert re-arms once a window judges the asset Healthy or Watch again.
    /// </summary>
    private FailurePredicted? Prediction(in Decision decision)
    {
        if (decision.HealthState < HealthState.Alert || decision.FailureMode is null)
        {
            _alerted.Remove(decision.AssetId);
            return null;
        }

        if (_alerted.TryGetValue(decision.AssetId, out var previous) && previous >= decision.HealthState)
        {
            return null;
        }

        _alerted[decision.AssetId] = decision.HealthState;
        var now = _clock.GetUtcNow();
        return new FailurePredicted
        {
            // From the window, not random: the same window decided again after a crash is the same prediction.
            PredictionId = DecisionIds.Prediction(_options.SiteId, decision.AssetId, decision.WindowEnd),
            SiteId = _options.SiteId,
            AssetId = decision.AssetId,
            FailureMode = decision.FailureMode,
            Severity = decision.Severity ?? FailureSeverity.Incipient,
            HealthState = decision.HealthState,
            Confidence = decision.Confidence,
            RemainingUsefulLife = decision.RemainingUsefulLife,
            Evidence = decision.Evidence,
            Provenance = decision.Provenance,
            OccurredAt = now,
        };
    }

    private AssetHealthAssessed? Assessment(in Decision decision)
    {
        var now = _clock.GetUtcNow();
        if (_lastAssessed.TryGetValue(decision.AssetId, out var last) && now - last < TimeSpan.FromSeconds(_options.HealthAssessmentIntervalSeconds))
        {
            return null;
        }

        _lastAssessed[decision.AssetId] = now;
        return new AssetHealthAssessed
        {
            AssessmentId = DecisionIds.Assessment(_options.SiteId, decision.AssetId, decision.WindowEnd),
            SiteId = _options.SiteId,
            AssetId = decision.AssetId,
            AssetClass = decision.AssetClass,
            HealthState = decision.HealthState,
            FailureProbability = decision.FailureProbability,
            RemainingUsefulLife = decision.RemainingUsefulLife,
            FailureMode = decision.FailureMode,
            Provenance = decision.Provenance,
            WindowStart = decision.WindowStart,
            WindowEnd = decision.WindowEnd,
            OccurredAt = now,
        };
    }

    [LoggerMessage(EventId = 1112, Level = LogLevel.Warning, Message = "Deciding a batch of windows failed; deciding its {Count} remaining window(s) one at a time")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);

    /// <summary>One line per decision at Debug (off by default): which window of which asset, and the model batch that scored it (empty for the rules).</summary>
    [LoggerMessage(EventId = 1111, Level = LogLevel.Debug, Message = "Decided {AssetId} window ending {WindowEnd:O} by {Path} in model batch {BatchId}")]
    private static partial void LogDecided(ILogger logger, string assetId, DateTimeOffset windowEnd, DecisionPath path, long? batchId);
}
