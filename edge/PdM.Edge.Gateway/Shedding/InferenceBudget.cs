using System.Diagnostics;
using Microsoft.Extensions.Options;
using PdM.Contracts.Decisions;
using PdM.Contracts.Edge;
using PdM.Edge.Gateway.Mqtt;
using PdM.Edge.Gateway.Uplink;

namespace PdM.Edge.Gateway.Shedding;

/// <summary>Why a window went to the rules instead of the model (the <c>reason</c> of <c>pdm.decisions.shed</c>).</summary>
public enum ShedReason
{
    /// <summary>Level 1: a healthy asset's window between two model-scored ones (every k-th is scored).</summary>
    EveryKthWindow,

    /// <summary>Level 2: every window of a healthy asset.</summary>
    HealthyToRules,
}

/// <summary>
/// The gateway's inference budget (<c>Gateway:Shedding</c>). Every evaluation interval it measures the pipeline's lag —
/// the age of the oldest message it has not finished with: the first of the batch in progress, else the head of the
/// ingest channel, by the receipt time the decision latency is measured from — and the share of the interval spent
/// deciding. Over either threshold it raises the shedding level one step per interval, up to 2; once both stayed under
/// <see cref="SheddingOptions.RecoverBelow"/> of their thresholds for <see cref="SheddingOptions.RecoverSeconds"/> it
/// steps down one level (hysteresis, so a lag hovering at the threshold does not flap). Starting, changing and stopping
/// are journaled as <see cref="GatewaySheddingChanged"/> and logged.
/// <para>
/// The policy, in order: level 1 scores a healthy asset's window with the model only every
/// <see cref="SheddingOptions.EveryKthWindow"/>-th window and leaves the others to the rules; level 2 leaves every window
/// of a healthy asset to the rules. Healthy means its last window was judged Healthy and it was not in Alert or Danger
/// within <see cref="SheddingOptions.RecentAlertSeconds"/>; an asset not decided yet is not healthy. A shed window whose
/// rules say Alert or Danger is scored by the model after all (<see cref="PdM.Edge.Inference.DecisionRequest.Shed"/>),
/// so an asset in trouble never has a window shed; and every message is still processed and every window decided:
/// shedding changes who decides, never whether.
/// </para>
/// <para>
/// Threads: <see cref="ShedFor"/>, <see cref="Decided"/> and <see cref="CountShed"/> run on the pipeline's thread only
/// (the per-asset records need no lock); the level is written by the evaluation loop and read with a volatile read.
/// </para>
/// </summary>
public sealed partial class InferenceBudget : BackgroundService
{
    private readonly SheddingOptions _options;
    private readonly GatewayOptions _gateway;
    private readonly IngestChannel _channel;
    private readonly EventJournal _journal;
    private readonly GatewayTelemetry _telemetry;
    private readonly TimeProvider _clock;
    private readonly ILogger<InferenceBudget> _logger;
    private readonly Dictionary<string, AssetRecord> _assets = new(StringComparer.Ordinal);
    private readonly long _recentAlertTicks;

    private int _level;
    private long _inProgressSinceTicks;
    private long _decidingTimestampTicks;
    private long _shedInEpisode;
    private double _lagMs;
    private double _scoringShare;
    private DateTimeOffset? _calmSince;

    public InferenceBudget(IOptions<GatewayOptions> gateway, IngestChannel channel, EventJournal journal, GatewayTelemetry telemetry, TimeProvider clock,
        ILogger<InferenceBudget> logger)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(telemetry);
        _gateway = gateway.Value;
        _options = gateway.Value.Shedding;
        _channel = channel;
        _journal = journal;
        _telemetry = telemetry;
        _clock = clock;
        _logger = logger;
        _recentAlertTicks = TimeSpan.FromSeconds(_options.RecentAlertSeconds).Ticks;
        telemetry.ObserveShedding(() => Level, () => LagMs, () => ScoringShare);
    }

    /// <summary>0 (not shedding), 1 (healthy assets scored every k-th window) or 2 (healthy assets to the rules).</summary>
    public int Level => Volatile.Read(ref _level);

    /// <summary>The pipeline's lag at the last evaluation (ms): the age of the oldest message it had not finished with.</summary>
    public double LagMs => Volatile.Read(ref _lagMs);

    /// <summary>Share (0–1) of the last evaluation interval the pipeline spent deciding windows.</summary>
    public double ScoringShare => Volatile.Read(ref _scoringShare);

    /// <summary>The pipeline took a batch whose oldest message was received at <paramref name="oldestReceivedAt"/>.</summary>
    public void BatchStarted(DateTimeOffset oldestReceivedAt) => Volatile.Write(ref _inProgressSinceTicks, oldestReceivedAt.UtcTicks);

    /// <summary>The batch is done (acknowledged): the lag is the channel's head's again.</summary>
    public void BatchFinished() => Volatile.Write(ref _inProgressSinceTicks, 0);

    /// <summary>Time the pipeline spent deciding a batch of windows (Stopwatch ticks).</summary>
    public void AddDeciding(long stopwatchTicks) => Interlocked.Add(ref _decidingTimestampTicks, stopwatchTicks);

    /// <summary>Whether to shed this window of <paramref name="assetId"/> at the current level, and why; null = the model scores it.</summary>
    public ShedReason? ShedFor(string assetId, DateTimeOffset now)
    {
        var level = Level;
        if (level == 0 || !_assets.TryGetValue(assetId, out var asset) || !IsHealthy(asset, now))
        {
            return null;
        }

        if (level >= 2)
        {
            return ShedReason.HealthyToRules;
        }

        if (++asset.WindowsSinceScored >= _options.EveryKthWindow)
        {
            asset.WindowsSinceScored = 0;
            return null;
        }

        return ShedReason.EveryKthWindow;
    }

    /// <summary>What a window of <paramref name="assetId"/> was judged, whoever decided it: the next windows' triage.</summary>
    public void Decided(string assetId, HealthState state, DateTimeOffset now)
    {
        if (!_assets.TryGetValue(assetId, out var asset))
        {
            asset = new AssetRecord();
            _assets.Add(assetId, asset);
        }

        asset.Last = state;
        if (state >= HealthState.Alert)
        {
            asset.LastTroubleTicks = now.UtcTicks;
        }
    }

    /// <summary>A window the rules decided because it was shed (its rules did not see trouble).</summary>
    public void CountShed(ShedReason reason)
    {
        Interlocked.Increment(ref _shedInEpisode);
        _telemetry.DecisionShed(reason);
    }

    public static string Tag(ShedReason reason) => reason switch
    {
        ShedReason.EveryKthWindow => "every_kth_window",
        ShedReason.HealthyToRules => "healthy_to_rules",
        _ => "unknown",
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.EvaluationIntervalMs), _clock);
        var last = Stopwatch.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = Stopwatch.GetTimestamp();
                var deciding = Interlocked.Exchange(ref _decidingTimestampTicks, 0);
                Volatile.Write(ref _scoringShare, now > last ? deciding / (double)(now - last) : 0);
                last = now;
                Volatile.Write(ref _lagMs, MeasureLag(_clock.GetUtcNow()));
                if (_options.Enabled)
                {
                    await EvaluateAsync(stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private double MeasureLag(DateTimeOffset now)
    {
        var oldest = Volatile.Read(ref _inProgressSinceTicks);
        if (oldest == 0 && _channel.Reader.TryPeek(out var head))
        {
            oldest = head.ReceivedAt.UtcTicks;
        }

        return oldest == 0 ? 0 : Math.Max(0, (now.UtcTicks - oldest) / (double)TimeSpan.TicksPerMillisecond);
    }

    private async Task EvaluateAsync(CancellationToken cancellationToken)
    {
        var lag = LagMs;
        var share = ScoringShare;
        var budgeted = _options.ScoringBudget < 1;
        var level = Level;
        var now = _clock.GetUtcNow();
        if (lag > _options.MaxLagMs || (budgeted && share > _options.ScoringBudget))
        {
            _calmSince = null;
            if (level < 2)
            {
                await ChangeAsync(level + 1, lag > _options.MaxLagMs ? "lag" : "scoring_budget", lag, share, now, cancellationToken);
            }
        }
        else if (lag < _options.MaxLagMs * _options.RecoverBelow && (!budgeted || share < _options.ScoringBudget * _options.RecoverBelow))
        {
            _calmSince ??= now;
            if (level > 0 && now - _calmSince.Value >= TimeSpan.FromSeconds(_options.RecoverSeconds))
            {
                await ChangeAsync(level - 1, "recovered", lag, share, now, cancellationToken);
                _calmSince = now;
            }
        }
        else
        {
            _calmSince = null;
        }
    }

    private async Task ChangeAsync(int level, string reason, double lag, double share, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var previous = Level;
        if (previous == 0)
        {
            Interlocked.Exchange(ref _shedInEpisode, 0);
        }

        Volatile.Write(ref _level, level);
        var shed = Interlocked.Read(ref _shedInEpisode);
        if (level > previous)
        {
            LogEscalated(_logger, previous, level, reason, lag, _options.MaxLagMs, share, _options.ScoringBudget);
        }
        else
        {
            LogEased(_logger, previous, level, lag, shed);
        }

        var change = new GatewaySheddingChanged
        {
            EventId = Guid.CreateVersion7(now),
            SiteId = _gateway.SiteId,
            GatewayId = _gateway.EffectiveGatewayId,
            Level = level,
            PreviousLevel = previous,
            Reason = reason,
            LagMs = Math.Round(lag, 1),
            MaxLagMs = _options.MaxLagMs,
            ScoringShare = Math.Round(share, 3),
            ScoringBudget = _options.ScoringBudget,
            ShedDecisions = shed,
            OccurredAt = now,
        };
        await _journal.AppendAsync(change, change.EventId, change.OccurredAt, cancellationToken);
    }

    private bool IsHealthy(AssetRecord asset, DateTimeOffset now) =>
        asset.Last == HealthState.Healthy && now.UtcTicks - asset.LastTroubleTicks > _recentAlertTicks;

    /// <summary>An asset's triage state, touched by the pipeline's thread only.</summary>
    private sealed class AssetRecord
    {
        public HealthState Last { get; set; }

        public long LastTroubleTicks { get; set; } = long.MinValue / 2;

        public int WindowsSinceScored { get; set; }
    }

    [LoggerMessage(EventId = 1130, Level = LogLevel.Warning,
        Message = "Shedding level {Previous} → {Level} ({Reason}): lag {LagMs:F0} ms (tolerated {MaxLagMs} ms), deciding {Share:P0} of the time (budget {Budget:P0})")]
    private static partial void LogEscalated(ILogger logger, int previous, int level, string reason, double lagMs, double maxLagMs, double share, double budget);

    [LoggerMessage(EventId = 1131, Level = LogLevel.Information,
        Message = "Shedding level {Previous} → {Level} (recovered): lag {LagMs:F0} ms; {Shed} decision(s) shed since shedding started")]
    private static partial void LogEased(ILogger logger, int previous, int level, double lagMs, long shed);
}
