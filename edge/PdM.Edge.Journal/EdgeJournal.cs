using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace PdM.Edge.Journal;

/// <summary>
/// The gateway's durable store-and-forward journal. Append as decisions happen; the uplink loop leases the next
/// batch, publishes each entry with its stable <see cref="JournalEntry.MessageId"/> and publisher confirms, then
/// acknowledges (the entry leaves the journal) or releases (it is retried with the same message id). Thread-safe.
/// </summary>
/// <remarks>
/// Every database operation goes through one writer loop over one SQLite connection (WAL, synchronous=FULL). It drains
/// whatever operations are queued into one transaction, so concurrent appenders share one fsync (group commit), and
/// each caller's task completes only after the transaction holding its operation has committed.
/// </remarks>
public sealed class EdgeJournal : IAsyncDisposable
{
    private readonly JournalOptions _options;
    private readonly TimeProvider _time;
    private readonly JournalTelemetry _telemetry;
    private readonly bool _ownsTelemetry;
    private readonly JournalStore _store;
    private readonly FileStream _lockFile;
    private readonly Channel<Operation> _operations;
    private readonly ReplayThrottle _throttle;
    private readonly TimeSpan?[] _ttls = new TimeSpan?[MessageClasses.Count];
    private readonly Lock _gate = new();

    // The in-memory index of what the database holds (no payloads): leasing, quota and TTL decisions are made here
    // without a query. Changed only by the writer loop, under _gate, after the transaction that made the change committed.
    private readonly Dictionary<long, Slot> _slots = [];
    private readonly SortedSet<long>[] _byClass = new SortedSet<long>[MessageClasses.Count];
    private readonly long[] _classBytes = new long[MessageClasses.Count];
    private readonly long[] _appended = new long[MessageClasses.Count];
    private readonly long[] _acknowledged = new long[MessageClasses.Count];
    private readonly long[] _expired = new long[MessageClasses.Count];
    private readonly long[] _evicted = new long[MessageClasses.Count];
    private readonly long[] _rejected = new long[MessageClasses.Count];
    private long _bytes;
    private long _highestId;
    private long _replayBoundary;
    private bool _uplinkUp = true;
    private long _commits;
    private long _quotaExceeded;

    // Planning state of the batch being built (writer loop only).
    private long _plannedBytes;
    private readonly long[] _plannedClassBytes = new long[MessageClasses.Count];

    private readonly Task _writer;
    private readonly ITimer _purgeTimer;
    private int _purgeQueued;
    private int _disposed;

    private EdgeJournal(JournalOptions options, TimeProvider time, JournalTelemetry telemetry, bool ownsTelemetry, JournalStore store, FileStream lockFile)
    {
        _options = options;
        _time = time;
        _telemetry = telemetry;
        _ownsTelemetry = ownsTelemetry;
        _store = store;
        _lockFile = lockFile;
        _throttle = new ReplayThrottle(time, options.ReplayRatePerSecond, options.ReplayBurst);
        for (var i = 0; i < MessageClasses.Count; i++)
        {
            _byClass[i] = [];
            _ttls[i] = options.Ttl.For((MessageClass)i);
        }

        _highestId = store.HighestId();
        store.LoadIndex(AddLoaded);

        // Whatever outlived a restart waited through an outage of the gateway itself: it is backlog.
        _replayBoundary = _highestId + 1;
        _operations = Channel.CreateBounded<Operation>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _writer = Task.Run(RunWriterAsync);
        telemetry.Attach(this);
        // The first purge is queued ahead of anything a caller can queue, so it never races with what follows.
        QueuePurge();
        _purgeTimer = time.CreateTimer(_ => QueuePurge(), null, options.PurgeInterval, options.PurgeInterval);
    }

    /// <summary>Identifies this journal database; part of every derived message id.</summary>
    public Guid InstanceId => _store.InstanceId;

    /// <summary>Full path of the database file.</summary>
    public string DatabasePath { get; private init; } = "";

    /// <summary>Payload bytes held (what the quota counts).</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    public bool IsUplinkUp
    {
        get
        {
            lock (_gate)
            {
                return _uplinkUp;
            }
        }
    }

    /// <summary>
    /// Opens (or creates) the journal at <see cref="JournalOptions.Path"/>. Throws <see cref="OptionsValidationException"/>
    /// for invalid options and <see cref="IOException"/> when another process has the journal open (a second writer
    /// would send every entry twice).
    /// </summary>
    public static EdgeJournal Open(JournalOptions options, TimeProvider? timeProvider = null, JournalTelemetry? telemetry = null) =>
        Open(options, timeProvider, telemetry, maxPageCount: null);

    internal static EdgeJournal Open(JournalOptions options, TimeProvider? timeProvider, JournalTelemetry? telemetry, long? maxPageCount)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = JournalOptionsValidator.Problems(options);
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(JournalOptions.SectionName, typeof(JournalOptions), problems);
        }

        var path = options.ResolvePath();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        // SQLite would let a second process write too; the lock file (flock, released by the kernel even on kill -9)
        // keeps the journal single-writer across processes.
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"The journal '{path}' is open in another process or instance", ex);
        }

        JournalStore? store = null;
        try
        {
            store = JournalStore.Open(path, maxPageCount);
            var ownsTelemetry = telemetry is null;
            return new EdgeJournal(options, timeProvider ?? TimeProvider.System, telemetry ?? new JournalTelemetry(), ownsTelemetry, store, lockFile)
            {
                DatabasePath = path,
            };
        }
        catch
        {
            store?.Dispose();
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Journals one message. When the task completes with a stored status, the entry is committed and fsynced: it
    /// survives kill -9 and power loss. Cancellation only abandons the wait; an entry already queued may still commit.
    /// Throws <see cref="JournalStorageException"/> when the database cannot be written (nothing of it is stored).
    /// </summary>
    public async Task<AppendResult> AppendAsync(JournalAppend append, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(append);
        if (!MessageClasses.IsDefined(append.Class))
        {
            throw new ArgumentOutOfRangeException(nameof(append), append.Class, "Unknown message class");
        }

        ArgumentException.ThrowIfNullOrEmpty(append.MessageType);
        ArgumentException.ThrowIfNullOrEmpty(append.ContentType);
        var operation = new AppendOperation(append);
        await EnqueueAsync(operation, cancellationToken);
        return await operation.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Leases up to <paramref name="max"/> entries for delivery: live entries first (failure predictions, then health
    /// assessments, feature batches, heartbeats; oldest first within a class), then backlog entries at most at
    /// <see cref="JournalOptions.ReplayRatePerSecond"/>, marked <see cref="JournalEntry.IsReplay"/>. While the uplink
    /// is down the rate does not apply: everything is offered in priority order so the first publish that gets
    /// through carries the most important entry. Each lease counts an attempt durably. A leased entry is not offered
    /// again until it is released or <see cref="JournalOptions.LeaseTimeout"/> passes.
    /// </summary>
    public async Task<IReadOnlyList<JournalEntry>> LeaseNextAsync(int max, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(max, _options.MaxLeaseBatch);
        var operation = new LeaseOperation(max);
        await EnqueueAsync(operation, cancellationToken);
        return await operation.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Removes entries whose publish was confirmed; returns how many were still held (an entry dropped meanwhile or
    /// acknowledged twice counts nothing). A confirm proves the uplink works, so this also reports it up.
    /// </summary>
    public async Task<int> AcknowledgeAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return 0;
        }

        UplinkUp();
        var operation = new AcknowledgeOperation([.. ids]);
        await EnqueueAsync(operation, cancellationToken);
        return await operation.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Hands leased entries back (the publish failed); they are offered again at once with the same message id.</summary>
    public int Release(IReadOnlyCollection<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var released = 0;
        lock (_gate)
        {
            foreach (var id in ids)
            {
                if (_slots.TryGetValue(id, out var slot) && slot.LeaseExpires != 0)
                {
                    slot.LeaseExpires = 0;
                    released++;
                }
            }
        }

        return released;
    }

    /// <summary>The uplink is failing: whatever is appended from now on is backlog once it comes back.</summary>
    public void UplinkDown()
    {
        lock (_gate)
        {
            _uplinkUp = false;
        }
    }

    /// <summary>
    /// The uplink works again: everything committed so far becomes backlog (replayed at the configured rate), whatever
    /// is appended from now on is live. Does nothing when the uplink was not down.
    /// </summary>
    public void UplinkUp()
    {
        lock (_gate)
        {
            if (_uplinkUp)
            {
                return;
            }

            _uplinkUp = true;
            _replayBoundary = _highestId + 1;
        }
    }

    /// <summary>Deletes entries past their class's TTL now (it also runs every <see cref="JournalOptions.PurgeInterval"/>); returns how many.</summary>
    public async Task<int> PurgeExpiredAsync(CancellationToken cancellationToken = default)
    {
        var operation = new PurgeOperation();
        await EnqueueAsync(operation, cancellationToken);
        return await operation.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Runs SQLite's <c>PRAGMA integrity_check</c>; "ok" when the database is sound.</summary>
    public async Task<string> CheckIntegrityAsync(CancellationToken cancellationToken = default)
    {
        var operation = new IntegrityOperation();
        await EnqueueAsync(operation, cancellationToken);
        return await operation.Completion.Task.WaitAsync(cancellationToken);
    }

    public JournalStatistics GetStatistics()
    {
        lock (_gate)
        {
            var classes = new JournalClassStatistics[MessageClasses.Count];
            for (var i = 0; i < classes.Length; i++)
            {
                classes[i] = new JournalClassStatistics((MessageClass)i, _byClass[i].Count, _classBytes[i], _appended[i], _acknowledged[i], _expired[i], _evicted[i], _rejected[i]);
            }

            var now = _time.GetTimestamp();
            var leased = 0;
            var backlog = 0;
            foreach (var slot in _slots.Values)
            {
                if (slot.IsLeased(now))
                {
                    leased++;
                }

                if (slot.Id < _replayBoundary)
                {
                    backlog++;
                }
            }

            return new JournalStatistics(classes, _bytes, _options.QuotaBytes, leased, backlog, _uplinkUp, _commits, _quotaExceeded);
        }
    }

    /// <summary>Finishes what is queued, closes the database (checkpointing the WAL) and releases the lock file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _purgeTimer.DisposeAsync();
        _operations.Writer.TryComplete();
        await _writer;
        _telemetry.Detach(this);
        if (_ownsTelemetry)
        {
            _telemetry.Dispose();
        }

        _store.Dispose();
        await _lockFile.DisposeAsync();
    }

    /// <summary>The ids held, oldest first (for tests and diagnostics).</summary>
    internal long[] SnapshotIds()
    {
        lock (_gate)
        {
            var ids = _slots.Keys.ToArray();
            Array.Sort(ids);
            return ids;
        }
    }

    internal void CopyCounts(Span<long> counts)
    {
        lock (_gate)
        {
            for (var i = 0; i < MessageClasses.Count; i++)
            {
                counts[i] = _byClass[i].Count;
            }
        }
    }

    private async ValueTask EnqueueAsync(Operation operation, CancellationToken cancellationToken)
    {
        try
        {
            await _operations.Writer.WriteAsync(operation, cancellationToken);
        }
        catch (ChannelClosedException ex)
        {
            throw new ObjectDisposedException("The journal is closed", ex);
        }
    }

    private void QueuePurge()
    {
        if (Interlocked.Exchange(ref _purgeQueued, 1) == 0 && !_operations.Writer.TryWrite(new PurgeOperation()))
        {
            // Queue full or closed: the next tick tries again.
            Volatile.Write(ref _purgeQueued, 0);
        }
    }

    private async Task RunWriterAsync()
    {
        var reader = _operations.Reader;
        var batch = new List<Operation>(_options.MaxCommitBatch);
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < _options.MaxCommitBatch && reader.TryRead(out var operation))
            {
                batch.Add(operation);
            }

            ExecuteBatch(batch);
            batch.Clear();
        }
    }

    private void ExecuteBatch(List<Operation> batch)
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
        var single = new List<Operation>(1);
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
    private JournalStorageException? TryCommit(List<Operation> batch)
    {
        lock (_gate)
        {
            _plannedBytes = _bytes;
            _classBytes.CopyTo(_plannedClassBytes, 0);
            foreach (var operation in batch)
            {
                operation.Plan(this);
            }
        }

        try
        {
            using var transaction = _store.Begin();
            foreach (var operation in batch)
            {
                operation.Execute(this);
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

        lock (_gate)
        {
            _commits++;
            foreach (var operation in batch)
            {
                operation.Apply(this);
            }
        }

        _telemetry.Committed();
        foreach (var operation in batch)
        {
            operation.Complete(this);
        }

        return null;
    }

    private JournalStorageException Undo(List<Operation> batch, Exception cause)
    {
        lock (_gate)
        {
            foreach (var operation in batch)
            {
                operation.Undo(this);
            }
        }

        return new JournalStorageException($"The journal could not commit ({cause.Message}); nothing of the operation was stored", cause);
    }

    private void AddLoaded(long id, MessageClass messageClass, int payloadBytes, long appendedTicks, int attempts)
    {
        var slot = new Slot(id, messageClass, payloadBytes, appendedTicks) { Attempts = attempts };
        AddSlot(slot);
        _highestId = Math.Max(_highestId, id);
    }

    private void AddSlot(Slot slot)
    {
        _slots.Add(slot.Id, slot);
        _byClass[(int)slot.Class].Add(slot.Id);
        _classBytes[(int)slot.Class] += slot.PayloadBytes;
        _bytes += slot.PayloadBytes;
    }

    private bool RemoveSlot(long id, out Slot slot)
    {
        if (!_slots.Remove(id, out slot!))
        {
            return false;
        }

        _byClass[(int)slot.Class].Remove(id);
        _classBytes[(int)slot.Class] -= slot.PayloadBytes;
        _bytes -= slot.PayloadBytes;
        return true;
    }

    private bool IsExpired(Slot slot, long nowUtcTicks) =>
        _ttls[(int)slot.Class] is { } ttl && nowUtcTicks - slot.AppendedTicks > ttl.Ticks;

    /// <summary>Marks the oldest entries of the classes the incoming one may evict until <paramref name="over"/> bytes are freed.</summary>
    private void PlanEvictions(MessageClass incoming, ref long over, List<Slot> victims)
    {
        var classes = MessageClasses.EvictableClassCount(incoming);
        for (var i = 0; i < classes && over > 0; i++)
        {
            var messageClass = MessageClasses.DropOrder[i];
            foreach (var id in _byClass[(int)messageClass])
            {
                if (over <= 0)
                {
                    break;
                }

                var slot = _slots[id];
                if (slot.Dropping)
                {
                    continue;
                }

                // Oldest first even when leased: the quota must hold, and an acknowledgement of a dropped entry is harmless.
                slot.Dropping = true;
                victims.Add(slot);
                over -= slot.PayloadBytes;
                _plannedBytes -= slot.PayloadBytes;
                _plannedClassBytes[(int)messageClass] -= slot.PayloadBytes;
            }
        }
    }

    private void SelectLeases(int max, List<(Slot Slot, bool IsReplay)> selected)
    {
        var now = _time.GetTimestamp();
        var nowUtc = _time.GetUtcNow().UtcTicks;
        var expires = now + (long)(_options.LeaseTimeout.TotalSeconds * _time.TimestampFrequency);
        if (!_uplinkUp)
        {
            for (var c = 0; c < MessageClasses.Count && selected.Count < max; c++)
            {
                Take(_byClass[c], max, isReplay: false);
            }

            return;
        }

        for (var c = 0; c < MessageClasses.Count && selected.Count < max; c++)
        {
            Take(_byClass[c].GetViewBetween(_replayBoundary, long.MaxValue), max, isReplay: false);
        }

        if (selected.Count < max && _replayBoundary > 1)
        {
            var allowance = Math.Min(max - selected.Count, _throttle.Available());
            var limit = selected.Count + allowance;
            var before = selected.Count;
            for (var c = 0; c < MessageClasses.Count && selected.Count < limit; c++)
            {
                Take(_byClass[c].GetViewBetween(long.MinValue, _replayBoundary - 1), limit, isReplay: true);
            }

            _throttle.Take(selected.Count - before);
        }

        void Take(SortedSet<long> ids, int limit, bool isReplay)
        {
            foreach (var id in ids)
            {
                if (selected.Count >= limit)
                {
                    return;
                }

                var slot = _slots[id];
                if (slot.Dropping || slot.IsLeased(now) || IsExpired(slot, nowUtc))
                {
                    continue;
                }

                slot.PreviousLease = slot.LeaseExpires;
                slot.LeaseExpires = expires;
                selected.Add((slot, isReplay || slot.Id < _replayBoundary));
            }
        }
    }

    /// <summary>What the index knows of one entry.</summary>
    private sealed class Slot(long id, MessageClass messageClass, int payloadBytes, long appendedTicks)
    {
        public long Id { get; } = id;

        public MessageClass Class { get; } = messageClass;

        public int PayloadBytes { get; } = payloadBytes;

        public long AppendedTicks { get; } = appendedTicks;

        public int Attempts { get; set; }

        /// <summary>Timestamp (TimeProvider) when the lease ends; 0 when not leased.</summary>
        public long LeaseExpires { get; set; }

        public long PreviousLease { get; set; }

        /// <summary>Chosen for deletion by a batch not yet committed: no longer offered or chosen again.</summary>
        public bool Dropping { get; set; }

        public bool IsLeased(long now) => LeaseExpires != 0 && LeaseExpires > now;
    }

    /// <summary>
    /// One queued request. Plan (under the gate: decide, mark), Execute (SQL inside the batch's transaction), then
    /// Apply (under the gate, after commit) and Complete, or Undo and Fail when the transaction did not commit.
    /// </summary>
    private abstract class Operation
    {
        public abstract void Plan(EdgeJournal journal);

        public abstract void Execute(EdgeJournal journal);

        public abstract void Apply(EdgeJournal journal);

        public abstract void Undo(EdgeJournal journal);

        public abstract void Complete(EdgeJournal journal);

        public abstract void Fail(Exception error);
    }

    private abstract class Operation<T> : Operation
    {
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Fail(Exception error) => Completion.TrySetException(error);
    }

    private sealed class AppendOperation(JournalAppend append) : Operation<AppendResult>
    {
        private readonly List<Slot> _victims = [];
        private bool _rejected;
        private bool _overQuota;
        private long _appendedTicks;
        private long _id;
        private Slot? _slot;

        public override void Plan(EdgeJournal journal)
        {
            // Plan may run twice (a failed batch is retried one operation at a time): start clean.
            _victims.Clear();
            _rejected = false;
            _overQuota = false;
            _appendedTicks = journal._time.GetUtcNow().UtcTicks;
            var size = append.Payload.Length;
            var over = journal._plannedBytes + size - journal._options.QuotaBytes;
            if (over > 0)
            {
                long evictable = 0;
                var classes = MessageClasses.EvictableClassCount(append.Class);
                for (var i = 0; i < classes; i++)
                {
                    evictable += journal._plannedClassBytes[(int)MessageClasses.DropOrder[i]];
                }

                if (append.Class != MessageClass.FailurePrediction && evictable < over)
                {
                    // Evicting would not make room: keep what is there rather than lose it for nothing.
                    _rejected = true;
                    return;
                }

                journal.PlanEvictions(append.Class, ref over, _victims);
                _overQuota = over > 0;
            }

            journal._plannedBytes += size;
            journal._plannedClassBytes[(int)append.Class] += size;
        }

        public override void Execute(EdgeJournal journal)
        {
            if (_rejected)
            {
                return;
            }

            foreach (var victim in _victims)
            {
                journal._store.Delete(victim.Id);
            }

            _id = journal._store.Insert(append, _appendedTicks);
        }

        public override void Apply(EdgeJournal journal)
        {
            if (_rejected)
            {
                journal._rejected[(int)append.Class]++;
                return;
            }

            foreach (var victim in _victims)
            {
                if (journal.RemoveSlot(victim.Id, out _))
                {
                    journal._evicted[(int)victim.Class]++;
                }
            }

            _slot = new Slot(_id, append.Class, append.Payload.Length, _appendedTicks);
            journal.AddSlot(_slot);
            journal._highestId = Math.Max(journal._highestId, _id);
            journal._appended[(int)append.Class]++;
            if (_overQuota)
            {
                journal._quotaExceeded++;
            }
        }

        public override void Undo(EdgeJournal journal)
        {
            foreach (var victim in _victims)
            {
                victim.Dropping = false;
            }
        }

        public override void Complete(EdgeJournal journal)
        {
            var telemetry = journal._telemetry;
            if (_rejected)
            {
                telemetry.Dropped(append.Class, JournalTelemetry.ReasonRejected);
                Completion.TrySetResult(new AppendResult(AppendStatus.Rejected, 0, Guid.Empty, "does not fit in the journal quota"));
                return;
            }

            foreach (var victim in _victims)
            {
                telemetry.Dropped(victim.Class, JournalTelemetry.ReasonQuota);
            }

            telemetry.Appended(append.Class);
            if (_overQuota)
            {
                telemetry.QuotaExceeded();
            }

            var messageId = append.MessageId ?? MessageIds.Derive(journal.InstanceId, _id);
            Completion.TrySetResult(_overQuota
                ? new AppendResult(AppendStatus.AppendedOverQuota, _id, messageId, "quota exceeded: only failure predictions are left")
                : new AppendResult(AppendStatus.Appended, _id, messageId, null));
        }
    }

    private sealed class LeaseOperation(int max) : Operation<IReadOnlyList<JournalEntry>>
    {
        private readonly List<(Slot Slot, bool IsReplay)> _selected = [];
        private readonly List<JournalEntry> _entries = [];

        public override void Plan(EdgeJournal journal)
        {
            _selected.Clear();
            journal.SelectLeases(max, _selected);
            foreach (var (slot, _) in _selected)
            {
                slot.Attempts++;
            }
        }

        public override void Execute(EdgeJournal journal)
        {
            _entries.Clear();
            foreach (var (slot, isReplay) in _selected)
            {
                if (journal._store.Lease(slot.Id, isReplay) is { } entry)
                {
                    _entries.Add(entry);
                }
            }
        }

        public override void Apply(EdgeJournal journal)
        {
        }

        public override void Undo(EdgeJournal journal)
        {
            foreach (var (slot, _) in _selected)
            {
                slot.Attempts--;
                slot.LeaseExpires = slot.PreviousLease;
            }
        }

        public override void Complete(EdgeJournal journal)
        {
            foreach (var entry in _entries)
            {
                if (entry.IsReplay)
                {
                    journal._telemetry.Replayed(entry.Class);
                }
            }

            Completion.TrySetResult(_entries);
        }
    }

    private sealed class AcknowledgeOperation(long[] ids) : Operation<int>
    {
        private readonly List<MessageClass> _removed = [];

        public override void Plan(EdgeJournal journal)
        {
            foreach (var id in ids)
            {
                if (journal._slots.TryGetValue(id, out var slot) && !slot.Dropping)
                {
                    journal._plannedBytes -= slot.PayloadBytes;
                    journal._plannedClassBytes[(int)slot.Class] -= slot.PayloadBytes;
                }
            }
        }

        public override void Execute(EdgeJournal journal)
        {
            foreach (var id in ids)
            {
                journal._store.Delete(id);
            }
        }

        public override void Apply(EdgeJournal journal)
        {
            foreach (var id in ids)
            {
                if (journal.RemoveSlot(id, out var slot))
                {
                    journal._acknowledged[(int)slot.Class]++;
                    _removed.Add(slot.Class);
                }
            }
        }

        public override void Undo(EdgeJournal journal)
        {
        }

        public override void Complete(EdgeJournal journal)
        {
            foreach (var messageClass in _removed)
            {
                journal._telemetry.Acknowledged(messageClass);
            }

            Completion.TrySetResult(_removed.Count);
        }
    }

    private sealed class PurgeOperation : Operation<int>
    {
        private readonly List<Slot> _expired = [];

        public override void Plan(EdgeJournal journal)
        {
            _expired.Clear();
            Volatile.Write(ref journal._purgeQueued, 0);
            var now = journal._time.GetTimestamp();
            var nowUtc = journal._time.GetUtcNow().UtcTicks;
            for (var c = 0; c < MessageClasses.Count; c++)
            {
                if (journal._ttls[c] is null)
                {
                    continue;
                }

                foreach (var id in journal._byClass[c])
                {
                    var slot = journal._slots[id];
                    if (!journal.IsExpired(slot, nowUtc))
                    {
                        // Appended times grow with ids (one clock, one writer): the rest of the class is younger.
                        break;
                    }

                    // A leased entry may be confirmed any moment; it goes on the next purge if it comes back.
                    if (slot.Dropping || slot.IsLeased(now))
                    {
                        continue;
                    }

                    slot.Dropping = true;
                    _expired.Add(slot);
                    journal._plannedBytes -= slot.PayloadBytes;
                    journal._plannedClassBytes[c] -= slot.PayloadBytes;
                }
            }
        }

        public override void Execute(EdgeJournal journal)
        {
            foreach (var slot in _expired)
            {
                journal._store.Delete(slot.Id);
            }
        }

        public override void Apply(EdgeJournal journal)
        {
            foreach (var slot in _expired)
            {
                if (journal.RemoveSlot(slot.Id, out _))
                {
                    journal._expired[(int)slot.Class]++;
                }
            }
        }

        public override void Undo(EdgeJournal journal)
        {
            foreach (var slot in _expired)
            {
                slot.Dropping = false;
            }
        }

        public override void Complete(EdgeJournal journal)
        {
            foreach (var slot in _expired)
            {
                journal._telemetry.Dropped(slot.Class, JournalTelemetry.ReasonExpired);
            }

            Completion.TrySetResult(_expired.Count);
        }
    }

    private sealed class IntegrityOperation : Operation<string>
    {
        private string _result = "";

        public override void Plan(EdgeJournal journal)
        {
        }

        public override void Execute(EdgeJournal journal) => _result = journal._store.IntegrityCheck();

        public override void Apply(EdgeJournal journal)
        {
        }

        public override void Undo(EdgeJournal journal)
        {
        }

        public override void Complete(EdgeJournal journal) => Completion.TrySetResult(_result);

        public override void Fail(Exception error) => Completion.TrySetException(error);
    }
}
