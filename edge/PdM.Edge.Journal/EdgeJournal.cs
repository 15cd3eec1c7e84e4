using Microsoft.Extensions.Options;
using PdM.Edge.Journal.Operations;

namespace PdM.Edge.Journal;

/// <summary>
/// The gateway's durable store-and-forward journal. Append as decisions happen; the uplink loop leases the next
/// batch, publishes each entry with its stable <see cref="JournalEntry.MessageId"/> and publisher confirms, then
/// acknowledges (the entry leaves the journal) or releases (it is retried with the same message id). Thread-safe.
/// </summary>
/// <remarks>
/// Three parts: this API; the <see cref="JournalWriter"/>, one loop over one SQLite connection (WAL, synchronous=FULL)
/// that commits whatever operations are queued in one transaction (group commit) and completes each caller's task only
/// after that commit; and the <see cref="JournalIndex"/>, the in-memory view of what is stored, where quota, TTL and
/// lease decisions are made. Each request is an operation type of its own (<c>Operations/</c>).
/// </remarks>
public sealed class EdgeJournal : IAsyncDisposable
{
    private readonly JournalOptions _options;
    private readonly JournalTelemetry _telemetry;
    private readonly bool _ownsTelemetry;
    private readonly JournalStore _store;
    private readonly FileStream _lockFile;
    private readonly JournalIndex _index;
    private readonly JournalWriter _writer;
    private int _disposed;

    private EdgeJournal(JournalOptions options, TimeProvider time, JournalTelemetry telemetry, bool ownsTelemetry, JournalStore store, FileStream lockFile)
    {
        _options = options;
        _telemetry = telemetry;
        _ownsTelemetry = ownsTelemetry;
        _store = store;
        _lockFile = lockFile;
        _index = new JournalIndex(options, time, store);
        _writer = new JournalWriter(options, time, store, _index, telemetry);
        telemetry.Attach(_index);
    }

    /// <summary>Identifies this journal database; part of every derived message id.</summary>
    public Guid InstanceId => _store.InstanceId;

    /// <summary>Full path of the database file.</summary>
    public string DatabasePath { get; private init; } = "";

    /// <summary>Payload bytes held (what the quota counts).</summary>
    public long Bytes => _index.Bytes;

    public bool IsUplinkUp => _index.IsUplinkUp;

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
            store = JournalStore.Open(path, options.BusyTimeout, maxPageCount);
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
        return await _writer.SubmitAsync(new AppendOperation(append), cancellationToken);
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
        return (await _writer.SubmitAsync(new LeaseOperation(max), cancellationToken)).Entries;
    }

    /// <summary>
    /// Leases like <see cref="LeaseNextAsync"/>, but only what fits in <paramref name="budget"/> (the uplink's bandwidth
    /// ceiling), in a stricter order: feature batches are the first to wait, behind every other class, live and backlog
    /// alike (they only feed training and are the bulk of the bytes); within that, live before backlog and by class
    /// priority as usual. The first entry that does not fit ends the lease (nothing cheaper behind it overtakes it) and
    /// is reported as <see cref="BudgetedLease.Waiting"/> with its cost. Entries left out stay in the journal, unleased:
    /// a budget never drops anything (the quota and the TTLs apply as always).
    /// </summary>
    public async Task<BudgetedLease> LeaseWithinAsync(int max, LeaseBudget budget, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(max, _options.MaxLeaseBatch);
        ArgumentOutOfRangeException.ThrowIfNegative(budget.OverheadBytesPerEntry);
        return await _writer.SubmitAsync(new LeaseOperation(max, budget), cancellationToken);
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
        return await _writer.SubmitAsync(new AcknowledgeOperation([.. ids]), cancellationToken);
    }

    /// <summary>Hands leased entries back (the publish failed); they are offered again at once with the same message id.</summary>
    public int Release(IReadOnlyCollection<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return _index.Release(ids);
    }

    /// <summary>
    /// Hands leased entries back to be offered again only after <paramref name="delay"/>, with the same message id: the
    /// uplink's backoff for an entry the broker could not route anywhere yet (a retry at once would only be returned
    /// again). Until then the entry counts as leased, so the TTL purge also waits for it.
    /// </summary>
    public int Defer(IReadOnlyCollection<long> ids, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return _index.Defer(ids, delay);
    }

    /// <summary>The uplink is failing: whatever is appended from now on is backlog once it comes back.</summary>
    public void UplinkDown() => _index.UplinkDown();

    /// <summary>
    /// The uplink works again: everything committed so far becomes backlog (replayed at the configured rate), whatever
    /// is appended from now on is live. Does nothing when the uplink was not down.
    /// </summary>
    public void UplinkUp() => _index.UplinkUp();

    /// <summary>Deletes entries past their class's TTL now (it also runs every <see cref="JournalOptions.PurgeInterval"/>); returns how many.</summary>
    public Task<int> PurgeExpiredAsync(CancellationToken cancellationToken = default) =>
        _writer.SubmitAsync(new PurgeOperation(), cancellationToken);

    /// <summary>Runs SQLite's <c>PRAGMA integrity_check</c>; "ok" when the database is sound.</summary>
    public Task<string> CheckIntegrityAsync(CancellationToken cancellationToken = default) =>
        _writer.SubmitAsync(new IntegrityOperation(), cancellationToken);

    public JournalStatistics GetStatistics() => _index.GetStatistics();

    /// <summary>When the oldest entry still waiting for delivery (any class) was appended; null when nothing waits.</summary>
    public DateTimeOffset? OldestUnsentAppendedAt()
    {
        Span<long> appended = stackalloc long[MessageClasses.Count];
        _index.CopyOldestAppended(appended);
        long oldest = 0;
        foreach (var ticks in appended)
        {
            if (ticks != 0 && (oldest == 0 || ticks < oldest))
            {
                oldest = ticks;
            }
        }

        return oldest == 0 ? null : new DateTimeOffset(oldest, TimeSpan.Zero);
    }

    /// <summary>Finishes what is queued, closes the database (checkpointing the WAL) and releases the lock file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _writer.DisposeAsync();
        _telemetry.Detach(_index);
        if (_ownsTelemetry)
        {
            _telemetry.Dispose();
        }

        _store.Dispose();
        await _lockFile.DisposeAsync();
    }

    /// <summary>The ids held, oldest first (for tests and diagnostics).</summary>
    internal long[] SnapshotIds() => _index.SnapshotIds();
}
