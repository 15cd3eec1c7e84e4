using System.Threading.Channels;

namespace PdM.Edge.Inference;

/// <summary>
/// Collects rows from many assets into batches: a batch closes at <c>MaxBatchSize</c> rows or when its first
/// row has waited <c>MaxBatchWaitMs</c>, whichever comes first. One consumer per slot, so one batch at a time.
/// </summary>
internal sealed class MicroBatcher : IAsyncDisposable
{
    public delegate void BatchHandler(Span<ScoreRequest> batch);

    private readonly Channel<ScoreRequest> _channel = Channel.CreateUnbounded<ScoreRequest>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });

    private readonly BatchHandler _handler;
    private readonly int _maxBatchSize;
    private readonly TimeSpan _maxWait;
    private readonly TimeProvider _time;
    private readonly Task _loop;

    public MicroBatcher(BatchHandler handler, int maxBatchSize, TimeSpan maxWait, TimeProvider time)
    {
        _handler = handler;
        _maxBatchSize = maxBatchSize;
        _maxWait = maxWait;
        _time = time;
        _loop = Task.Run(RunAsync);
    }

    public bool TryEnqueue(ScoreRequest request) => _channel.Writer.TryWrite(request);

    private async Task RunAsync()
    {
        var reader = _channel.Reader;
        var batch = new ScoreRequest[_maxBatchSize];
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var count = 0;
            ScoreRequest? barrier = null;
            while (count < _maxBatchSize && reader.TryRead(out var request))
            {
                if (request.IsBarrier)
                {
                    barrier = request;
                    break;
                }

                batch[count++] = request;
            }

            if (barrier is null && count > 0 && count < _maxBatchSize && _maxWait > TimeSpan.Zero)
            {
                (count, barrier) = await FillAsync(reader, batch, count).ConfigureAwait(false);
            }

            if (count > 0)
            {
                _handler(batch.AsSpan(0, count));
                Array.Clear(batch, 0, count);
            }

            // Everything queued before the barrier has been handled, shadow scoring and reports included.
            barrier?.Complete(default);
        }
    }

    /// <summary>Waits up to the batch wait for more rows; allocates one timer source per under-full batch, never per row.</summary>
    private async ValueTask<(int Count, ScoreRequest? Barrier)> FillAsync(ChannelReader<ScoreRequest> reader, ScoreRequest[] batch, int count)
    {
        using var deadline = new CancellationTokenSource(_maxWait, _time);
        try
        {
            while (count < _maxBatchSize)
            {
                if (reader.TryRead(out var request))
                {
                    if (request.IsBarrier)
                    {
                        return (count, request);
                    }

                    batch[count++] = request;
                }
                else if (!await reader.WaitToReadAsync(deadline.Token).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // The wait is over: score what we have.
        }

        return (count, null);
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }
}
