using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace PdM.Edge.Inference;

/// <summary>
/// The scoring half of a <see cref="ModelSlot"/>: the micro-batcher that gathers rows for all assets of the class, and
/// the batch run itself (feature and distribution checks, the drift window, one ONNX run per version under the batch timeout, the
/// breaker and rollback window, the shadow comparison). From the lifecycle half it takes only a lease on each version
/// it runs (<see cref="ModelSlot.AcquireCurrent"/> and siblings) and it reports back what scoring saw
/// (<see cref="ModelSlot.OnMisbehaving"/>, <see cref="ModelSlot.ReportShadowIfDue"/>).
/// </summary>
/// <remarks>
/// Batches run on whichever thread holds the batcher's runner role, one at a time: the staging buffer, the result
/// arrays and the run options are reused by every batch without locks.
/// </remarks>
internal sealed partial class SlotBatchScorer : IAsyncDisposable
{
    private readonly ModelSlot _slot;
    private readonly InferenceOptions _options;
    private readonly TimeProvider _time;
    private readonly InferenceTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly MicroBatcher _batcher;
    private readonly ConcurrentQueue<ScoreRequest> _pool = new();
    private readonly Lock _timeoutGate = new();
    private readonly ITimer _timeoutTimer;
    private readonly TimeSpan _batchTimeout;
    private readonly RunOptions _runOptions = new();
    private readonly RunOptions _shadowRunOptions = new();
    private readonly ModelScore[] _scores;
    private readonly ModelScore[] _shadowScores;
    private readonly ScoreOutcome[] _rowOutcome;
    private readonly int[] _rowIndex;
    private float[] _staging = [];
    private RunOptions? _running;
    private bool _timedOut;
    private long _batchSequence;

    public SlotBatchScorer(ModelSlot slot, InferenceOptions options, TimeProvider time, InferenceTelemetry telemetry, ILogger logger)
    {
        _slot = slot;
        _options = options;
        _time = time;
        _telemetry = telemetry;
        _logger = logger;
        _batchTimeout = TimeSpan.FromMilliseconds(options.BatchTimeoutMs);
        _scores = new ModelScore[options.MaxBatchSize];
        _shadowScores = new ModelScore[options.MaxBatchSize];
        _rowOutcome = new ScoreOutcome[options.MaxBatchSize];
        _rowIndex = new int[options.MaxBatchSize];
        _timeoutTimer = time.CreateTimer(static state => ((SlotBatchScorer)state!).OnBatchTimeout(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _batcher = new MicroBatcher(ProcessBatch, options.MaxBatchSize, TimeSpan.FromMilliseconds(options.MaxBatchWaitMs), time);
    }

    /// <inheritdoc cref="ModelSlot.ScoreAsync"/>
    public ValueTask<ScoreResult> ScoreAsync(IReadOnlyList<string> names, ReadOnlyMemory<float> values, int bucket, bool deferRun)
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

    /// <inheritdoc cref="ModelSlot.RunQueued"/>
    public void RunQueued() => _batcher.Run();

    /// <inheritdoc cref="ModelSlot.DrainAsync"/>
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

    /// <summary>Finishes the queued rows and stops; no run is in flight afterwards.</summary>
    public async ValueTask DisposeAsync()
    {
        await _batcher.DisposeAsync().ConfigureAwait(false);
        await _timeoutTimer.DisposeAsync().ConfigureAwait(false);
        _runOptions.Dispose();
        _shadowRunOptions.Dispose();
    }

    /// <summary>
    /// One version lease per model run. With a canary, the batch is split in place (production rows first, canary
    /// rows after) and each part is one run of its own version.
    /// </summary>
    private void ProcessBatch(Span<ScoreRequest> batch)
    {
        var version = _slot.AcquireCurrent();
        var canary = _slot.AcquireCanary();
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
            LogBatchCrashed(_logger, ex, _slot.AssetClass);
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

            // Drift counts every row the model is asked to score, out-of-distribution ones too: they are its extreme.
            version.Drift?.Record(row);
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
            ran = RunGuarded(scorer, _staging, packed, _scores, _runOptions, out var timedOut, out error);
            var works = ran;
            if (!ran && !timedOut && packed > 1)
            {
                // ONNX Runtime fails a whole call for one row the graph cannot take (an index out of range, say): the
                // rows are scored again one at a time, so only such a row falls back to the rules and the rest of the
                // batch keeps the model's answer.
                var scored = ScoreRowByRow(scorer, packed, features);
                ran = scored == packed;
                works = scored > 0;
            }

            milliseconds = _time.GetElapsedTime(started).TotalMilliseconds;
            if (!ran && timedOut)
            {
                _scores.AsSpan(0, packed).Fill(ModelScore.Of(ScoreOutcome.Timeout));
            }

            _telemetry.Batch(milliseconds, packed, scorer.Provider, scorer.Identity.Name, scorer.Identity.Version);
            // The breaker guards against a model that cannot run, not against the one input it cannot take: a batch whose
            // other rows scored alone proves the model works, so one asset's bad row cannot open it for every asset.
            if (works)
            {
                version.Breaker.RecordSuccess();
            }
            else
            {
                version.Breaker.RecordFailure();
            }

            if (!ran)
            {
                LogRunFailed(_logger, _slot.AssetClass, scorer.Identity, packed, error ?? string.Empty);
            }
        }

        for (var i = 0; i < batch.Length; i++)
        {
            var score = _rowIndex[i] >= 0 ? _scores[_rowIndex[i]] : ModelScore.Of(_rowOutcome[i]);
            version.Monitor.Record(score.Outcome, milliseconds);
            var mode = score.FailureModeIndex >= 0 ? scorer.FailureModeName(score.FailureModeIndex) : scorer.DefaultFailureMode;
            batch[i].Complete(new ScoreResult(score, scorer.Identity, mode, scorer.RulUnit, batchId, score.Outcome == ScoreOutcome.Ok ? null : error));
        }

        // The shadow is compared with production only: the canary's rows are another version's answers.
        if (packed > 0 && ran && !isCanary)
        {
            ScoreShadow(packed, features, milliseconds);
        }

        if (version.Drift?.Evaluate() is >= 0 and var drifted)
        {
            _slot.OnDrift(version, drifted);
        }

        if (version.Monitor.Evaluate() is { } reason)
        {
            _slot.OnMisbehaving(version, reason, isCanary);
        }

        _slot.ReportShadowIfDue();
    }

    /// <summary>Scores the production batch's rows on the candidate, after production's callers have their results.</summary>
    private void ScoreShadow(int packed, int features, double productionMilliseconds)
    {
        var shadow = _slot.AcquireShadow();
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
            if (!RunGuarded(candidate, _staging, packed, _shadowScores, _shadowRunOptions, out _, out _))
            {
                _shadowScores.AsSpan(0, packed).Fill(ModelScore.Of(ScoreOutcome.RunFailed));
            }

            var (compared, agreed) = shadow.Record(_scores.AsSpan(0, packed), _shadowScores.AsSpan(0, packed), productionMilliseconds, _time.GetElapsedTime(started).TotalMilliseconds);
            _telemetry.Shadow(_slot.AssetClass, candidate.Identity, compared, agreed);
        }
        finally
        {
            shadow.Candidate.Release();
        }
    }

    /// <summary>
    /// After a failed batch run: each packed row scored alone (under its own timeout) into its place in <c>_scores</c>.
    /// Returns how many rows scored; a row that fails alone keeps <see cref="ScoreOutcome.RunFailed"/> (or
    /// <see cref="ScoreOutcome.Timeout"/>).
    /// </summary>
    private int ScoreRowByRow(OnnxScorer scorer, int packed, int features)
    {
        var scored = 0;
        for (var r = 0; r < packed; r++)
        {
            if (RunGuarded(scorer, _staging.AsSpan(r * features, features), 1, _scores.AsSpan(r, 1), _runOptions, out var timedOut, out _))
            {
                scored++;
            }
            else if (timedOut)
            {
                _scores[r] = ModelScore.Of(ScoreOutcome.Timeout);
            }
        }

        return scored;
    }

    /// <summary>Runs one batch under the per-batch timeout: the timer sets RunOptions.Terminate, which ONNX Runtime honours between nodes.</summary>
    private bool RunGuarded(OnnxScorer scorer, ReadOnlySpan<float> input, int rows, Span<ModelScore> results, RunOptions runOptions, out bool timedOut, out string? error)
    {
        runOptions.Terminate = false;
        lock (_timeoutGate)
        {
            _running = runOptions;
            _timedOut = false;
        }

        _timeoutTimer.Change(_batchTimeout, Timeout.InfiniteTimeSpan);
        var ok = scorer.ScoreBatch(input, rows, results, runOptions, out error);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Asset class {AssetClass}: {Model} failed on a batch of {Rows} rows: {Error}")]
    private static partial void LogRunFailed(ILogger logger, string assetClass, ModelIdentity model, int rows, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Asset class {AssetClass}: a batch failed unexpectedly")]
    private static partial void LogBatchCrashed(ILogger logger, Exception exception, string assetClass);
}
