using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;
using PdM.Contracts.Decisions;

namespace PdM.Edge.Inference;

/// <summary>What the batch says about one row, with the exact version that scored it.</summary>
public readonly record struct ScoreResult(
    ModelScore Score,
    ModelIdentity? Model,
    string? FailureMode,
    RulUnit? RulUnit,
    long BatchId,
    string? Error);

/// <summary>
/// One row waiting for its batch. Pooled and awaited as a <see cref="ValueTask{T}"/> so that queuing a row
/// allocates nothing in steady state; it returns itself to the pool when its result has been read.
/// </summary>
internal sealed class ScoreRequest : IValueTaskSource<ScoreResult>
{
    private readonly ConcurrentQueue<ScoreRequest> _pool;
    private ManualResetValueTaskSourceCore<ScoreResult> _core = new() { RunContinuationsAsynchronously = true };
    private int _completed;

    private ScoreRequest(ConcurrentQueue<ScoreRequest> pool) => _pool = pool;

    public IReadOnlyList<string> Names { get; private set; } = [];

    public ReadOnlyMemory<float> Values { get; private set; }

    /// <summary>The asset's canary bucket (<see cref="CanaryRouting.Bucket"/>); a canary takes the rows below its share.</summary>
    public int Bucket { get; private set; }

    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    /// <summary>A marker that completes once every row queued before it has been handled.</summary>
    public bool IsBarrier { get; private set; }

    public static ScoreRequest Rent(ConcurrentQueue<ScoreRequest> pool, IReadOnlyList<string> names, ReadOnlyMemory<float> values, bool barrier = false, int bucket = int.MaxValue)
    {
        var request = pool.TryDequeue(out var pooled) ? pooled : new ScoreRequest(pool);
        request.IsBarrier = barrier;
        request.Names = names;
        request.Values = values;
        request.Bucket = bucket;
        request._completed = 0;
        return request;
    }

    public ValueTask<ScoreResult> AsValueTask() => new(this, _core.Version);

    /// <summary>Completes once; a second completion (e.g. the error path after a partial batch) is ignored.</summary>
    public void Complete(in ScoreResult result)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            _core.SetResult(result);
        }
    }

    public ScoreResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Names = [];
            Values = default;
            _core.Reset();
            _pool.Enqueue(this);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
