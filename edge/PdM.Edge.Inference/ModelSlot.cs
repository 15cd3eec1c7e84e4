using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using PdM.Contracts.Models;
using PdM.ModelPackage;

namespace PdM.Edge.Inference;

/// <summary>The outcome of putting a package into a slot.</summary>
public sealed record DeploymentResult(bool Succeeded, ModelIdentity? Model, string? FailureCode, string? Detail)
{
    public static DeploymentResult Deployed(ModelIdentity model) => new(true, model, null, null);

    public static DeploymentResult Failed(string code, string detail) => new(false, null, code, detail);
}

/// <summary>
/// One asset class's models: the production version (hot-swappable), the previous version kept for automatic
/// rollback, an optional shadow candidate, an optional canary that decides for a stable share of the assets, and
/// the micro-batcher that scores rows for all assets of the class. Every model run takes a lease on one version, so
/// a batch never mixes versions (a batch with canary rows is split into one run per version) and a swapped-out
/// session is disposed only when its last batch has finished.
/// </summary>
public sealed partial class ModelSlot : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Lock _timeoutGate = new();
    private readonly InferenceOptions _options;
    private readonly TimeProvider _time;
    private readonly InferenceTelemetry _telemetry;
    private readonly IInferenceEventSink _events;
    private readonly ILogger _logger;
    private readonly MicroBatcher _batcher;
    private readonly ConcurrentQueue<ScoreRequest> _pool = new();
    private readonly ITimer _timeoutTimer;
    private readonly TimeSpan _batchTimeout;
    private readonly RunOptions _runOptions = new();
    private readonly RunOptions _shadowRunOptions = new();
    private readonly ModelScore[] _scores;
    private readonly ModelScore[] _shadowScores;
    private readonly ScoreOutcome[] _rowOutcome;
    private readonly int[] _rowIndex;
    private float[] _staging = [];
    private SlotVersion? _current;
    private ScorerHandle? _previous;
    private ShadowEvaluator? _shadow;
    private SlotVersion? _canary;
    private PackageRejection? _loadFailure;
    private RunOptions? _running;
    private bool _timedOut;
    private long _batchSequence;
    private DateTimeOffset _nextShadowReport;

    internal ModelSlot(string assetClass, InferenceOptions options, TimeProvider time, InferenceTelemetry telemetry, IInferenceEventSink events, ILogger logger)
    {
        AssetClass = assetClass;
        _options = options;
        _time = time;
        _telemetry = telemetry;
        _events = events;
        _logger = logger;
        _batchTimeout = TimeSpan.FromMilliseconds(options.BatchTimeoutMs);
        _scores = new ModelScore[options.MaxBatchSize];
        _shadowScores = new ModelScore[options.MaxBatchSize];
        _rowOutcome = new ScoreOutcome[options.MaxBatchSize];
        _rowIndex = new int[options.MaxBatchSize];
        _timeoutTimer = time.CreateTimer(static state => ((ModelSlot)state!).OnBatchTimeout(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _batcher = new MicroBatcher(ProcessBatch, options.MaxBatchSize, TimeSpan.FromMilliseconds(options.MaxBatchWaitMs), time);
    }

    public string AssetClass { get; }

    public ModelIdentity? Current => Volatile.Read(ref _current)?.Handle.Scorer.Identity;

    public ModelIdentity? Previous
    {
        get
        {
            lock (_gate)
            {
                return _previous?.Scorer.Identity;
            }
        }
    }

    public ModelIdentity? Shadow => Volatile.Read(ref _shadow)?.Candidate.Scorer.Identity;

    /// <summary>The canary version, deciding for <see cref="CanaryShare"/> of the assets; null without a canary.</summary>
    public ModelIdentity? Canary => Volatile.Read(ref _canary)?.Handle.Scorer.Identity;

    /// <summary>0..1 share of the class's assets the canary decides for; null without a canary.</summary>
    public double? CanaryShare => Volatile.Read(ref _canary)?.Share;

    /// <summary>The last failed deployment while the slot has no working model; null once a model is deployed.</summary>
    public PackageRejection? LoadFailure => Volatile.Read(ref _loadFailure);

    public BreakerState BreakerState => Volatile.Read(ref _current)?.Breaker.State ?? BreakerState.Closed;

    /// <summary>The shadow comparison since the last report, or null without a shadow.</summary>
    public ShadowStatistics? ShadowStatistics => Volatile.Read(ref _shadow)?.Snapshot();

    internal bool HasModel => Volatile.Read(ref _current) is not null || Volatile.Read(ref _canary) is not null;

    /// <summary>Asks the breaker of the version that would score an asset in <paramref name="bucket"/>.</summary>
    internal bool BreakerAllows(int bucket)
    {
        var canary = Volatile.Read(ref _canary);
        return canary is not null && bucket < canary.ShareBuckets
            ? canary.Breaker.AllowsRequest()
            : Volatile.Read(ref _current)?.Breaker.AllowsRequest() ?? true;
    }

    /// <summary>Warms the package up on its golden vectors, then makes it the production version; the old one is kept for rollback.</summary>
    public DeploymentResult Deploy(LoadedModelPackage package, string provider)
    {
        ArgumentNullException.ThrowIfNull(package);
        var scorer = new OnnxScorer(package, provider, _options.MaxBatchSize, _options.OodMargin);
        if (WarmUp(scorer) is { } warmUpError)
        {
            scorer.Dispose();
            RecordLoadFailure(new PackageRejection(PackageRejectionReason.GoldenVectorRunFailed, "warm-up failed: " + warmUpError));
            return DeploymentResult.Failed("warm_up_failed", warmUpError);
        }

        var handle = new ScorerHandle(scorer);
        ScorerHandle? released;
        SlotVersion? promotedCanary = null;
        ShadowEvaluator? promotedShadow = null;
        lock (_gate)
        {
            var old = _current;
            released = _previous;
            _previous = old?.Handle;
            Volatile.Write(ref _current, new SlotVersion(handle, _options, _time));
            Volatile.Write(ref _loadFailure, null);

            // Promoting the canary's (or the shadow's) package to production replaces it: all assets now get that
            // version, and a shadow compared with itself says nothing.
            if (_canary is { } canary && canary.Handle.Scorer.Identity.Digest == scorer.Identity.Digest)
            {
                promotedCanary = canary;
                Volatile.Write(ref _canary, null);
            }

            if (_shadow is { } shadow && shadow.Candidate.Scorer.Identity.Digest == scorer.Identity.Digest)
            {
                promotedShadow = shadow;
                Volatile.Write(ref _shadow, null);
            }
        }

        released?.Release();
        promotedCanary?.Handle.Release();
        promotedShadow?.Candidate.Release();
        LogDeployed(_logger, AssetClass, scorer.Identity, scorer.Identity.Digest, provider);
        return DeploymentResult.Deployed(scorer.Identity);
    }

    /// <summary>Scores a candidate alongside production without letting it decide; replaces any earlier candidate.</summary>
    public DeploymentResult DeployShadow(LoadedModelPackage package, string provider)
    {
        ArgumentNullException.ThrowIfNull(package);
        var scorer = new OnnxScorer(package, provider, _options.MaxBatchSize, _options.OodMargin);
        if (WarmUp(scorer) is { } warmUpError)
        {
            scorer.Dispose();
            return DeploymentResult.Failed("warm_up_failed", warmUpError);
        }

        var evaluator = new ShadowEvaluator(new ScorerHandle(scorer), _time.GetUtcNow());
        ShadowEvaluator? old;
        lock (_gate)
        {
            old = _shadow;
            Volatile.Write(ref _shadow, evaluator);
            _nextShadowReport = _time.GetUtcNow().AddSeconds(_options.ShadowReportIntervalSeconds);
        }

        old?.Candidate.Release();
        LogShadow(_logger, AssetClass, scorer.Identity);
        return DeploymentResult.Deployed(scorer.Identity);
    }

    /// <summary>
    /// Makes the package the canary: it decides for the assets whose <see cref="CanaryRouting.Bucket"/> falls below
    /// <paramref name="share"/>, production for the rest. Replaces any earlier canary. The canary has its own breaker
    /// and rollback window; misbehaving, it is removed and its assets go back to production (<c>ModelRolledBack</c>).
    /// </summary>
    public DeploymentResult DeployCanary(LoadedModelPackage package, string provider, double share)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (!(share > 0 && share <= 1))
        {
            package.Dispose();
            return DeploymentResult.Failed("invalid_canary_share", string.Create(CultureInfo.InvariantCulture, $"a canary share is in (0, 1]; got {share}"));
        }

        var scorer = new OnnxScorer(package, provider, _options.MaxBatchSize, _options.OodMargin);
        if (WarmUp(scorer) is { } warmUpError)
        {
            scorer.Dispose();
            return DeploymentResult.Failed("warm_up_failed", warmUpError);
        }

        var version = new SlotVersion(new ScorerHandle(scorer), _options, _time, share);
        SlotVersion? old;
        lock (_gate)
        {
            old = _canary;
            Volatile.Write(ref _canary, version);
        }

        old?.Handle.Release();
        LogCanary(_logger, AssetClass, scorer.Identity, share);
        return DeploymentResult.Deployed(scorer.Identity);
    }

    /// <summary>Stops the canary: all assets go back to production; the session goes when its last batch ends.</summary>
    public void ClearCanary()
    {
        SlotVersion? old;
        lock (_gate)
        {
            old = _canary;
            Volatile.Write(ref _canary, null);
        }

        old?.Handle.Release();
    }

    /// <summary>Removes the canary and/or shadow whose package digest this is (archived by the registry); true when one was removed.</summary>
    public bool RemoveCandidate(string digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        SlotVersion? canary = null;
        ShadowEvaluator? shadow = null;
        lock (_gate)
        {
            if (_canary is { } c && c.Handle.Scorer.Identity.Digest == digest)
            {
                canary = c;
                Volatile.Write(ref _canary, null);
            }

            if (_shadow is { } s && s.Candidate.Scorer.Identity.Digest == digest)
            {
                shadow = s;
                Volatile.Write(ref _shadow, null);
            }
        }

        canary?.Handle.Release();
        shadow?.Candidate.Release();
        return canary is not null || shadow is not null;
    }

    /// <summary>Reports the shadow statistics now (and starts a new period); null without a shadow.</summary>
    public ShadowEvaluationReported? ReportShadow()
    {
        var shadow = Volatile.Read(ref _shadow);
        if (shadow is null)
        {
            return null;
        }

        var report = shadow.TakeReport(_options.GatewayId, AssetClass, Current, _time.GetUtcNow());
        _events.ShadowEvaluationReported(report);
        return report;
    }

    /// <summary>Stops shadow scoring; the candidate's session goes when its last batch ends.</summary>
    public void ClearShadow()
    {
        ShadowEvaluator? old;
        lock (_gate)
        {
            old = _shadow;
            Volatile.Write(ref _shadow, null);
        }

        old?.Candidate.Release();
    }

    internal void RecordLoadFailure(PackageRejection rejection)
    {
        if (!HasModel)
        {
            Volatile.Write(ref _loadFailure, rejection);
        }
    }

    /// <summary>
    /// Queues one row for scoring. Unless <paramref name="deferRun"/>, the queue is run at once (on this thread when the
    /// slot is idle); a deferring caller queues its other rows first and then calls <see cref="RunQueued"/>.
    /// </summary>
    internal ValueTask<ScoreResult> ScoreAsync(IReadOnlyList<string> names, ReadOnlyMemory<float> values, int bucket, bool deferRun = false)
    {
        var request = ScoreRequest.Rent(_pool, names, values, bucket: bucket);
        var task = request.AsValueTask();
        var queued = deferRun ? _batcher.TryQueue(request) : _batcher.TryEnqueue(request);
        if (!queued)
        {
            request.Complete(new ScoreResult(ModelScore.Of(ScoreOutcome.NoModel), null, null, null, 0, "the slot is shutting down"));
        }

        return task;
    }

    /// <summary>Scores the rows queued with <c>deferRun</c>, together.</summary>
    internal void RunQueued() => _batcher.Run();

    /// <summary>
    /// Completes once every row queued before the call has been scored, its callers answered, and the shadow
    /// comparison and any due report done: for an orderly shutdown, or before reading shadow statistics.
    /// </summary>
    public async ValueTask DrainAsync()
    {
        var barrier = ScoreRequest.Rent(_pool, [], default, barrier: true);
        var task = barrier.AsValueTask();
        if (!_batcher.TryEnqueue(barrier))
        {
            barrier.Complete(default);
        }

        await task.ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the golden vectors through the new session before it takes traffic, so the first real batch does not
    /// pay for ONNX Runtime's lazy initialisation. Bounded by the warm-up timeout like any batch.
    /// </summary>
    private string? WarmUp(OnnxScorer scorer)
    {
        var cases = scorer.Package.Manifest.GoldenVectors.Cases;
        if (cases.Count == 0)
        {
            return null;
        }

        var features = scorer.FeatureCount;
        var rows = Math.Min(cases.Count, scorer.MaxBatchSize);
        var input = new float[rows * features];
        for (var r = 0; r < rows; r++)
        {
            for (var j = 0; j < features; j++)
            {
                input[(r * features) + j] = cases[r].Input[j];
            }
        }

        var results = new ModelScore[rows];
        using var runOptions = new RunOptions();
        using var timer = _time.CreateTimer(static state => ((RunOptions)state!).Terminate = true, runOptions, TimeSpan.FromMilliseconds(_options.WarmUpTimeoutMs), Timeout.InfiniteTimeSpan);
        if (!scorer.ScoreBatch(input, rows, results, runOptions, out var error))
        {
            return error;
        }

        foreach (var result in results)
        {
            if (result.Outcome != ScoreOutcome.Ok)
            {
                return "a golden vector produced " + result.Outcome;
            }
        }

        return null;
    }

    private SlotVersion? AcquireCurrent()
    {
        while (true)
        {
            var version = Volatile.Read(ref _current);
            if (version is null || version.Handle.TryAcquire())
            {
                return version;
            }
        }
    }

    private SlotVersion? AcquireCanary()
    {
        while (true)
        {
            var canary = Volatile.Read(ref _canary);
            if (canary is null || canary.Handle.TryAcquire())
            {
                return canary;
            }
        }
    }

    private ShadowEvaluator? AcquireShadow()
    {
        while (true)
        {
            var shadow = Volatile.Read(ref _shadow);
            if (shadow is null || shadow.Candidate.TryAcquire())
            {
                return shadow;
            }
        }
    }

    /// <summary>
    /// Runs on whichever thread holds the batcher's runner role (one at a time): one version lease per model run. With a canary, the batch is split in
    /// place (production rows first, canary rows after) and each part is one run of its own version.
    /// </summary>
    private void ProcessBatch(Span<ScoreRequest> batch)
    {
        var version = AcquireCurrent();
        var canary = AcquireCanary();
        try
        {
            var production = batch;
            if (canary is not null)
            {
                var split = PartitionByCanary(batch, canary.ShareBuckets);
                production = batch[..split];
                if (split < batch.Length)
                {
                    ScoreGuarded(canary, batch[split..], isCanary: true);
                }
            }

            if (production.IsEmpty)
            {
                return;
            }

            if (version is null)
            {
                foreach (var request in production)
                {
                    request.Complete(new ScoreResult(ModelScore.Of(ScoreOutcome.NoModel), null, null, null, 0, null));
                }

                return;
            }

            ScoreGuarded(version, production, isCanary: false);
        }
        finally
        {
            version?.Handle.Release();
            canary?.Handle.Release();
        }
    }

    /// <summary>Moves the rows production scores to the front (keeping their order) and returns how many there are.</summary>
    private static int PartitionByCanary(Span<ScoreRequest> batch, int canaryBuckets)
    {
        var front = 0;
        for (var i = 0; i < batch.Length; i++)
        {
            if (batch[i].Bucket >= canaryBuckets)
            {
                (batch[front], batch[i]) = (batch[i], batch[front]);
                front++;
            }
        }

        return front;
    }

    private void ScoreGuarded(SlotVersion version, Span<ScoreRequest> rows, bool isCanary)
    {
        try
        {
            ScoreWith(version, rows, isCanary);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A bug here must not strand the awaiting callers: they fall back, and the next batch starts clean.
            LogBatchCrashed(_logger, ex, AssetClass);
            foreach (var request in rows)
            {
                request.Complete(new ScoreResult(ModelScore.Of(ScoreOutcome.RunFailed), version.Handle.Scorer.Identity, null, null, 0, ex.Message));
            }
        }
    }

    private void ScoreWith(SlotVersion version, Span<ScoreRequest> batch, bool isCanary)
    {
        var scorer = version.Handle.Scorer;
        var features = scorer.FeatureCount;
        if (_staging.Length < batch.Length * features)
        {
            _staging = new float[_options.MaxBatchSize * features];
        }

        var batchId = ++_batchSequence;
        var packed = 0;
        for (var i = 0; i < batch.Length; i++)
        {
            var request = batch[i];
            _rowIndex[i] = -1;
            if (!scorer.MatchesFeatures(request.Names, request.Values.Length))
            {
                _rowOutcome[i] = ScoreOutcome.FeatureMismatch;
                continue;
            }

            var row = request.Values.Span;
            if (!scorer.IsInDistribution(row))
            {
                _rowOutcome[i] = ScoreOutcome.OutOfDistribution;
                continue;
            }

            row.CopyTo(_staging.AsSpan(packed * features));
            _rowIndex[i] = packed++;
        }

        var milliseconds = 0.0;
        string? error = null;
        var ran = true;
        if (packed > 0)
        {
            var started = _time.GetTimestamp();
            ran = RunGuarded(scorer, packed, _scores, _runOptions, out var timedOut, out error);
            milliseconds = _time.GetElapsedTime(started).TotalMilliseconds;
            if (!ran && timedOut)
            {
                _scores.AsSpan(0, packed).Fill(ModelScore.Of(ScoreOutcome.Timeout));
            }

            _telemetry.Batch(milliseconds, packed, scorer.Provider, scorer.Identity.Name, scorer.Identity.Version);
            if (ran)
            {
                version.Breaker.RecordSuccess();
            }
            else
            {
                version.Breaker.RecordFailure();
                LogRunFailed(_logger, AssetClass, scorer.Identity, packed, error ?? string.Empty);
            }
        }

        for (var i = 0; i < batch.Length; i++)
        {
            var score = _rowIndex[i] >= 0 ? _scores[_rowIndex[i]] : ModelScore.Of(_rowOutcome[i]);
            version.Monitor.Record(score.Outcome, milliseconds);
            var mode = score.FailureModeIndex >= 0 ? scorer.FailureModeName(score.FailureModeIndex) : scorer.DefaultFailureMode;
            batch[i].Complete(new ScoreResult(score, scorer.Identity, mode, scorer.RulUnit, batchId, error));
        }

        // The shadow is compared with production only: the canary's rows are another version's answers.
        if (packed > 0 && ran && !isCanary)
        {
            ScoreShadow(packed, features, milliseconds);
        }

        if (version.Monitor.Evaluate() is { } reason)
        {
            if (isCanary)
            {
                RollBackCanary(version, reason);
            }
            else
            {
                RollBack(version, reason);
            }
        }

        if (Volatile.Read(ref _shadow) is not null && _time.GetUtcNow() >= _nextShadowReport)
        {
            _nextShadowReport = _time.GetUtcNow().AddSeconds(_options.ShadowReportIntervalSeconds);
            ReportShadow();
        }
    }

    /// <summary>Scores the production batch's rows on the candidate, after production's callers have their results.</summary>
    private void ScoreShadow(int packed, int features, double productionMilliseconds)
    {
        var shadow = AcquireShadow();
        if (shadow is null)
        {
            return;
        }

        try
        {
            var candidate = shadow.Candidate.Scorer;
            if (candidate.FeatureCount != features || candidate.MaxBatchSize < packed)
            {
                return;
            }

            var started = _time.GetTimestamp();
            if (!RunGuarded(candidate, packed, _shadowScores, _shadowRunOptions, out _, out _))
            {
                _shadowScores.AsSpan(0, packed).Fill(ModelScore.Of(ScoreOutcome.RunFailed));
            }

            shadow.Record(_scores.AsSpan(0, packed), _shadowScores.AsSpan(0, packed), productionMilliseconds, _time.GetElapsedTime(started).TotalMilliseconds);
        }
        finally
        {
            shadow.Candidate.Release();
        }
    }

    /// <summary>Runs one batch under the per-batch timeout: the timer sets RunOptions.Terminate, which ONNX Runtime honours between nodes.</summary>
    private bool RunGuarded(OnnxScorer scorer, int rows, ModelScore[] results, RunOptions runOptions, out bool timedOut, out string? error)
    {
        runOptions.Terminate = false;
        lock (_timeoutGate)
        {
            _running = runOptions;
            _timedOut = false;
        }

        _timeoutTimer.Change(_batchTimeout, Timeout.InfiniteTimeSpan);
        var ok = scorer.ScoreBatch(_staging, rows, results, runOptions, out error);
        _timeoutTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        lock (_timeoutGate)
        {
            _running = null;
            timedOut = _timedOut;
        }

        return ok;
    }

    private void OnBatchTimeout()
    {
        lock (_timeoutGate)
        {
            if (_running is not null)
            {
                _timedOut = true;
                _running.Terminate = true;
            }
        }
    }

    private void RollBack(SlotVersion failing, string reason)
    {
        ScorerHandle restored;
        lock (_gate)
        {
            if (!ReferenceEquals(_current, failing) || _previous is null)
            {
                return;
            }

            restored = _previous;
            _previous = null;
            Volatile.Write(ref _current, new SlotVersion(restored, _options, _time));
        }

        var from = failing.Handle.Scorer.Identity;
        var to = restored.Scorer.Identity;
        failing.Handle.Release();
        _telemetry.Rollback(AssetClass);
        LogRolledBack(_logger, AssetClass, from, to, reason);
        _events.ModelRolledBack(new ModelRolledBack
        {
            EventId = Guid.NewGuid(),
            GatewayId = _options.GatewayId,
            AssetClass = AssetClass,
            FromModelName = from.Name,
            FromModelVersion = from.Version,
            FromModelDigest = from.Digest,
            ToModelName = to.Name,
            ToModelVersion = to.Version,
            ToModelDigest = to.Digest,
            Reason = reason,
            WindowRows = failing.Monitor.Count,
            OccurredAt = _time.GetUtcNow(),
        });
    }

    /// <summary>A misbehaving canary is removed: its assets go back to production, and the registry hears why.</summary>
    private void RollBackCanary(SlotVersion failing, string reason)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(_canary, failing))
            {
                return;
            }

            Volatile.Write(ref _canary, null);
        }

        var from = failing.Handle.Scorer.Identity;
        var to = Current;
        failing.Handle.Release();
        _telemetry.Rollback(AssetClass);
        LogCanaryRolledBack(_logger, AssetClass, from, to?.ToString() ?? "the rules", reason);
        _events.ModelRolledBack(new ModelRolledBack
        {
            EventId = Guid.NewGuid(),
            GatewayId = _options.GatewayId,
            AssetClass = AssetClass,
            FromModelName = from.Name,
            FromModelVersion = from.Version,
            FromModelDigest = from.Digest,
            ToModelName = to?.Name ?? string.Empty,
            ToModelVersion = to?.Version ?? string.Empty,
            ToModelDigest = to?.Digest ?? string.Empty,
            Reason = reason,
            WindowRows = failing.Monitor.Count,
            OccurredAt = _time.GetUtcNow(),
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _batcher.DisposeAsync().ConfigureAwait(false);
        await _timeoutTimer.DisposeAsync().ConfigureAwait(false);
        lock (_gate)
        {
            _current?.Handle.Release();
            _previous?.Release();
            _shadow?.Candidate.Release();
            _canary?.Handle.Release();
            _current = null;
            _previous = null;
            _shadow = null;
            _canary = null;
        }

        _runOptions.Dispose();
        _shadowRunOptions.Dispose();
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{AssetClass}: {Current?.ToString() ?? "no model"}");

    [LoggerMessage(Level = LogLevel.Information, Message = "Asset class {AssetClass}: deployed {Model} ({Digest}) on {Provider}")]
    private static partial void LogDeployed(ILogger logger, string assetClass, ModelIdentity model, string digest, string provider);

    [LoggerMessage(Level = LogLevel.Information, Message = "Asset class {AssetClass}: shadow candidate {Model}")]
    private static partial void LogShadow(ILogger logger, string assetClass, ModelIdentity model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Asset class {AssetClass}: {Model} failed on a batch of {Rows} rows: {Error}")]
    private static partial void LogRunFailed(ILogger logger, string assetClass, ModelIdentity model, int rows, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Asset class {AssetClass}: rolled back from {From} to {To}: {Reason}")]
    private static partial void LogRolledBack(ILogger logger, string assetClass, ModelIdentity from, ModelIdentity to, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Asset class {AssetClass}: canary {Model} decides for a share of {Share} of the assets")]
    private static partial void LogCanary(ILogger logger, string assetClass, ModelIdentity model, double share);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Asset class {AssetClass}: canary {From} removed, its assets go back to {To}: {Reason}")]
    private static partial void LogCanaryRolledBack(ILogger logger, string assetClass, ModelIdentity from, string to, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Asset class {AssetClass}: a batch failed unexpectedly")]
    private static partial void LogBatchCrashed(ILogger logger, Exception exception, string assetClass);

    /// <summary>A deployed version with its own breaker and rollback window: a new version starts with a clean record.</summary>
    private sealed class SlotVersion(ScorerHandle handle, InferenceOptions options, TimeProvider time, double share = 1)
    {
        public ScorerHandle Handle { get; } = handle;

        /// <summary>For a canary: the share of assets it decides for, and the buckets that share covers.</summary>
        public double Share { get; } = share;

        public int ShareBuckets { get; } = CanaryRouting.BucketsFor(share);

        public CircuitBreaker Breaker { get; } = new(options.BreakerFailureThreshold, TimeSpan.FromSeconds(options.BreakerCooldownSeconds), time);

        public RollbackMonitor Monitor { get; } = new(options);
    }
}
