using Microsoft.Extensions.Options;
using PdM.Contracts.Telemetry;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// Collects closed windows into <see cref="FeatureWindowsCollected"/> batches for the cloud feature store, one open
/// batch per feature spec (a batch's rows share its feature names and digest). A batch is cut when it holds
/// <see cref="FeatureUploadOptions.MaxRows"/> windows or its oldest window has waited <see cref="FeatureUploadOptions.MaxDelay"/>.
/// The pipeline adds and takes after every message; <see cref="FeatureUploadService"/> takes on a timer, so a quiet
/// plant's windows still leave. Thread-safe.
/// </summary>
public sealed class FeatureUploadBatcher
{
    private readonly FeatureUploadOptions _options;
    private readonly string _gatewayId;
    private readonly string _siteId;
    private readonly TimeProvider _clock;
    private readonly Dictionary<ClassFeatureSpec, OpenBatch> _open = [];
    private readonly Lock _lock = new();

    public FeatureUploadBatcher(IOptions<GatewayOptions> options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value.FeatureUpload;
        _gatewayId = options.Value.EffectiveGatewayId;
        _siteId = options.Value.SiteId;
        _clock = clock;
    }

    public bool Enabled => _options.Enabled;

    /// <summary>Adds closed windows; full batches are moved to <paramref name="ready"/>.</summary>
    public void Add(IReadOnlyList<ClosedWindow> windows, List<FeatureWindowsCollected> ready)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(ready);
        if (!_options.Enabled || windows.Count == 0)
        {
            return;
        }

        var now = _clock.GetUtcNow();
        lock (_lock)
        {
            foreach (var window in windows)
            {
                if (!_open.TryGetValue(window.Features, out var batch))
                {
                    batch = new OpenBatch(now);
                    _open.Add(window.Features, batch);
                }

                batch.Rows.Add(new FeatureWindowRow
                {
                    AssetId = window.AssetId,
                    WindowStartUnixMs = window.WindowStartUnixMs,
                    WindowEndUnixMs = window.WindowEndUnixMs,
                    // A copy: the row outlives the window, which the feature stage reuses.
                    Values = [.. window.Values],
                });
                if (batch.Rows.Count >= _options.MaxRows)
                {
                    ready.Add(Cut(window.Features, batch, now));
                }
            }
        }
    }

    /// <summary>Moves every batch whose oldest window has waited MaxDelay (all batches when <paramref name="all"/>) to <paramref name="ready"/>.</summary>
    public void TakeDue(List<FeatureWindowsCollected> ready, bool all = false)
    {
        ArgumentNullException.ThrowIfNull(ready);
        var now = _clock.GetUtcNow();
        lock (_lock)
        {
            if (_open.Count == 0)
            {
                return;
            }

            foreach (var (features, batch) in _open)
            {
                if (all || now - batch.OpenedAt >= _options.MaxDelay)
                {
                    ready.Add(Cut(features, batch, now));
                }
            }
        }
    }

    private FeatureWindowsCollected Cut(ClassFeatureSpec features, OpenBatch batch, DateTimeOffset now)
    {
        _open.Remove(features);
        return new FeatureWindowsCollected
        {
            BatchId = Guid.CreateVersion7(now),
            GatewayId = _gatewayId,
            SiteId = _siteId,
            FeatureSpecName = features.Name,
            FeatureSpecDigest = features.Digest,
            FeatureNames = features.FeatureNames,
            Rows = batch.Rows,
            OccurredAt = now,
        };
    }

    private sealed class OpenBatch(DateTimeOffset openedAt)
    {
        public DateTimeOffset OpenedAt { get; } = openedAt;

        public List<FeatureWindowRow> Rows { get; } = [];
    }
}

/// <summary>Journals feature batches that are due by time when no message arrives to do it; flushes on stop.</summary>
public sealed partial class FeatureUploadService(
    FeatureUploadBatcher batcher,
    Uplink.EventJournal journal,
    IOptions<GatewayOptions> options,
    TimeProvider clock,
    ILogger<FeatureUploadService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!batcher.Enabled)
        {
            return;
        }

        var maxDelay = options.Value.FeatureUpload.MaxDelay;
        var period = TimeSpan.FromTicks(Math.Clamp(maxDelay.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(5).Ticks));
        var ready = new List<FeatureWindowsCollected>();
        using var timer = new PeriodicTimer(period, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                ready.Clear();
                batcher.TakeDue(ready);
                await JournalAsync(ready, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Windows already computed are worth keeping across a restart: the journal is durable, the batcher is not.
        ready.Clear();
        batcher.TakeDue(ready, all: true);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await JournalAsync(ready, deadline.Token);
        }
        catch (OperationCanceledException)
        {
            LogFlushAbandoned(logger, ready.Count);
        }
    }

    private async Task JournalAsync(List<FeatureWindowsCollected> ready, CancellationToken cancellationToken)
    {
        foreach (var batch in ready)
        {
            await journal.AppendAsync(batch, batch.BatchId, batch.OccurredAt, cancellationToken);
            LogBatch(logger, batch.FeatureSpecName, batch.Rows.Count);
        }
    }

    [LoggerMessage(EventId = 1120, Level = LogLevel.Debug, Message = "Feature batch journaled: {Spec}, {Rows} windows")]
    private static partial void LogBatch(ILogger logger, string spec, int rows);

    [LoggerMessage(EventId = 1121, Level = LogLevel.Warning, Message = "Stopping: {Batches} feature batches could not be journaled in time and are lost")]
    private static partial void LogFlushAbandoned(ILogger logger, int batches);
}
