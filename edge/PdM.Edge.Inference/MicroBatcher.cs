using System.Collections.Concurrent;

namespace PdM.Edge.Inference;

/// <summary>
/// Collects rows from many assets into batches of at most <c>MaxBatchSize</c>; one batch runs at a time per slot.
/// <para>
/// With no batch wait (the default) the caller that finds the slot idle runs the batches itself, on its own thread,
/// with every row queued by then. A lone decision is then scored without a thread hop (measured: hops were most of
/// the scoring stage's overhead over a bare ONNX Runtime call), and rows queued together, by
/// <see cref="DecisionPolicy.DecideAllAsync"/> or by callers arriving while a batch runs, share the next batch. A caller
/// runs at most <see cref="InlineBatchLimit"/> batches before handing a longer queue to a thread-pool runner, so no
/// caller is held up scoring other callers' rows indefinitely.
/// </para>
/// <para>
/// With a positive <c>MaxBatchWaitMs</c> a background runner holds an under-full batch until its first row has waited
/// that long or the batch is full, whichever comes first.
/// </para>
/// </summary>
internal sealed class MicroBatcher : IAsyncDisposable
{
    public delegate void BatchHandler(Span<ScoreRequest> batch);

    private const int InlineBatchLimit = 8;

    private readonly ConcurrentQueue<ScoreRequest> _queue = new();
    private readonly BatchHandler _handler;
    private readonly ScoreRequest[] _batch;
    private readonly TimeSpan _maxWait;
    private readonly TimeProvider _time;

    // 1 while one thread owns the batch buffer and the handler; whoever sets it runs until the queue is empty.
    private int _running;
    private volatile bool _closed;

    public MicroBatcher(BatchHandler handler, int maxBatchSize, TimeSpan maxWait, TimeProvider time)
    {
        _handler = handler;
        _batch = new ScoreRequest[maxBatchSize];
        _maxWait = maxWait;
        _time = time;
    }

    /// <summary>Queues a row and runs the queue (<see cref="Run"/>). False once the batcher is closed.</summary>
    public bool TryEnqueue(ScoreRequest request)
    {
        if (!TryQueue(request))
        {
            return false;
        }

        Run();
        return true;
    }

    /// <summary>Queues a row without running anything yet: the caller queues the rest and then calls <see cref="Run"/>.</summary>
    public bool TryQueue(ScoreRequest request)
    {
        if (_closed)
        {
            return false;
        }

        _queue.Enqueue(request);
        return true;
    }

    /// <summary>Scores what is queued, unless a runner is already at it (it takes these rows before it lets go).</summary>
    public void Run()
    {
        if (_queue.IsEmpty || Interlocked.CompareExchange(ref _running, 1, 0) != 0)
        {
            return;
        }

        if (_maxWait > TimeSpan.Zero)
        {
            _ = Task.Run(RunWithWaitAsync);
            return;
        }

        RunInline();
    }

    private void RunInline()
    {
        var handedOff = false;
        try
        {
            for (var batches = 0; batches < InlineBatchLimit; batches++)
            {
                if (!RunOneBatch())
                {
                    return;
                }
            }

            // A long queue: the runner role (still held) moves to the thread pool and this caller returns.
            handedOff = true;
            _ = Task.Run(RunToEmpty);
        }
        finally
        {
            // Also when a batch handler throws: a runner role never released would silence the slot for good.
            if (!handedOff)
            {
                Release();
            }
        }
    }

    private void RunToEmpty()
    {
        try
        {
            while (RunOneBatch())
            {
            }
        }
        finally
        {
            Release();
        }
    }

    /// <summary>Lets go of the runner role; a row queued after our last look found us running, so take it now.</summary>
    private void Release()
    {
        Volatile.Write(ref _running, 0);
        if (!_queue.IsEmpty && Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            _ = _maxWait > TimeSpan.Zero ? Task.Run(RunWithWaitAsync) : Task.Run(RunToEmpty);
        }
    }

    private async Task RunWithWaitAsync()
    {
        try
        {
            while (!_queue.IsEmpty)
            {
                // Hold an under-full batch until its first row has waited MaxBatchWaitMs (timer resolution ~1 ms).
                var deadline = _time.GetTimestamp() + (long)(_maxWait.TotalSeconds * _time.TimestampFrequency);
                while (_queue.Count < _batch.Length && !_closed && _time.GetTimestamp() < deadline)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(1), _time).ConfigureAwait(false);
                }

                RunOneBatch();
            }
        }
        finally
        {
            Release();
        }
    }

    /// <summary>Takes up to a batch of rows (stopping at a barrier) and handles them; false when nothing was queued.</summary>
    private bool RunOneBatch()
    {
        var count = 0;
        ScoreRequest? barrier = null;
        while (count < _batch.Length && _queue.TryDequeue(out var request))
        {
            if (request.IsBarrier)
            {
                barrier = request;
                break;
            }

            _batch[count++] = request;
        }

        if (count == 0 && barrier is null)
        {
            return false;
        }

        try
        {
            if (count > 0)
            {
                _handler(_batch.AsSpan(0, count));
            }
        }
        finally
        {
            Array.Clear(_batch, 0, count);

            // Everything queued before the barrier has been handled, shadow scoring and reports included.
            barrier?.Complete(default);
        }

        return true;
    }

    /// <summary>Refuses new rows, then answers every row accepted before (running them here if no runner is active).</summary>
    public async ValueTask DisposeAsync()
    {
        _closed = true;
        while (true)
        {
            if (Interlocked.CompareExchange(ref _running, 1, 0) == 0)
            {
                while (RunOneBatch())
                {
                }

                Volatile.Write(ref _running, 0);
                if (_queue.IsEmpty)
                {
                    return;
                }
            }

            await Task.Delay(1).ConfigureAwait(false);
        }
    }
}
