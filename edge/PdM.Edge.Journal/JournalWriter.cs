using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using PdM.Edge.Journal.Operations;

namespace PdM.Edge.Journal;

/// <summary>
/// The one writer loop over the journal's one SQLite connection. It drains whatever operations are queued into one
/// transaction, so concurrent appenders share one fsync (group commit), and completes each caller's task only after
/// the transaction holding its operation has committed. It also queues a TTL purge every
/// <see cref="JournalOptions.PurgeInterval"/>.
/// </summary>
internal sealed class JournalWriter : IAsyncDisposable
{
    private readonly JournalStore _store;
    private readonly JournalIndex _index;
    private readonly JournalTelemetry _telemetry;
    private readonly int _maxCommitBatch;
    private readonly Channel<JournalOperation> _operations;
    private readonly Task _loop;
    private readonly ITimer _purgeTimer;
    private int _purgeQueued;

    public JournalWriter(JournalOptions options, TimeProvider time, JournalStore store, JournalIndex index, JournalTelemetry telemetry)
    {
        _store = store;
        _index = index;
        _telemetry = telemetry;
        _maxCommitBatch = options.MaxCommitBatch;
        _operations = Channel.CreateBounded<JournalOperation>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loop = Task.Run(RunLoopAsync);
        // The first purge is queued ahead of anything a caller can queue, so it never races with what follows.
        QueuePurge();
        _purgeTimer = time.CreateTimer(_ => QueuePurge(), null, options.PurgeInterval, options.PurgeInterval);
    }

    /// <summary>Queues <paramref name="operation"/> and returns its result once the transaction holding it committed.</summary>
    public async Task<T> SubmitAsync<T>(JournalOperation<T> operation, CancellationToken cancellationToken)
    {
        try
        {
            await _operations.Writer.WriteAsync(operation, cancellationToken);
        }
        catch (ChannelClosedException ex)
        {
            throw new ObjectDisposedException("The journal is closed", ex);
        }

        return await operation.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Stops the purge timer and finishes what is queued.</summary>
    public async ValueTask DisposeAsync()
    {
        await _purgeTimer.DisposeAsync();
        _operations.Writer.TryComplete();
        await _loop;
    }

    private void QueuePurge()
    {
        if (Interlocked.Exchange(ref _purgeQueued, 1) == 0
            && !_operations.Writer.TryWrite(new PurgeOperation(planned: () => Volatile.Write(ref _purgeQueued, 0))))
        {
            // Queue full or closed: the next tick tries again.
            Volatile.Write(ref _purgeQueued, 0);
        }
    }

    private async Task RunLoopAsync()
    {
        var reader = _operations.Reader;
        var batch = new List<JournalOperation>(_maxCommitBatch);
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < _maxCommitBatch && reader.TryRead(out var operation))
            {
                batch.Add(operation);
            }

            ExecuteBatch(batch);
            batch.Clear();
        }
    }

    private void ExecuteBatch(List<JournalOperation> batch)
    {
        var error = TryCommit(batch);
        if (error is null)
        {
            return;
        }

        if (batch.Count == 1)
        {
            batch[0].Fail(error);
            return;
        }

        // One operation must not take the others down with it: on a full disk appends fail, but the acknowledgements
        // batched with them free space. Retried one by one, each fails or succeeds on its own.
        var single = new List<JournalOperation>(1);
        foreach (var operation in batch)
        {
            single.Add(operation);
            if (TryCommit(single) is { } own)
            {
                operation.Fail(own);
            }

            single.Clear();
        }
    }

    /// <summary>Plans, executes and commits the operations in one transaction; on failure undoes the plan and returns the error.</summary>
    private JournalStorageException? TryCommit(List<JournalOperation> batch)
    {
        lock (_index.Gate)
        {
            _index.BeginPlan();
            foreach (var operation in batch)
            {
                operation.Plan(_index);
            }
        }

        try
        {
            using var transaction = _store.Begin();
            foreach (var operation in batch)
            {
                operation.Execute(_store);
            }

            transaction.Commit();
        }
        catch (SqliteException ex)
        {
            return Undo(batch, ex);
        }
        catch (IOException ex)
        {
            return Undo(batch, ex);
        }
        catch (InvalidOperationException ex)
        {
            // Microsoft.Data.Sqlite reports a connection in a bad state this way; failing the batch keeps the writer alive.
            return Undo(batch, ex);
        }

        lock (_index.Gate)
        {
            _index.Committed();
            foreach (var operation in batch)
            {
                operation.Apply(_index);
            }
        }

        _telemetry.Committed();
        foreach (var operation in batch)
        {
            operation.Complete(_telemetry);
        }

        return null;
    }

    private JournalStorageException Undo(List<JournalOperation> batch, Exception cause)
    {
        lock (_index.Gate)
        {
            foreach (var operation in batch)
            {
                operation.Undo(_index);
            }
        }

        return new JournalStorageException($"The journal could not commit ({cause.Message}); nothing of the operation was stored", cause);
    }
}
