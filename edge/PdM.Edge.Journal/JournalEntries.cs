namespace PdM.Edge.Journal;

/// <summary>
/// A message to journal. <paramref name="Payload"/> is read until the <see cref="EdgeJournal.AppendAsync"/> task
/// completes: do not reuse its buffer before then. <paramref name="MessageId"/>, when given (for example the
/// decision's own id), is stored and used as the message id on every delivery attempt; when null, the journal derives
/// one (see <see cref="JournalEntry.MessageId"/>).
/// </summary>
public sealed record JournalAppend(
    MessageClass Class,
    string MessageType,
    string ContentType,
    ReadOnlyMemory<byte> Payload,
    DateTimeOffset OriginalTime,
    Guid? MessageId = null)
{
    /// <summary>
    /// W3C <c>traceparent</c> of what caused the message (the gateway's decision span), or null when it was not
    /// traced. Stored with the entry so that the message, whenever it is finally sent, still belongs to its decision.
    /// </summary>
    public string? TraceParent { get; init; }

    /// <summary>W3C <c>tracestate</c> belonging to <see cref="TraceParent"/>, or null.</summary>
    public string? TraceState { get; init; }
}

/// <summary>
/// A journaled message handed to the uplink by <see cref="EdgeJournal.LeaseNextAsync"/>.
/// </summary>
/// <param name="Id">Monotonic journal id, never reused (SQLite AUTOINCREMENT), the handle for acknowledge/release.</param>
/// <param name="MessageId">
/// Stable across attempts, restarts and crashes: the id given at append, else a UUIDv8 derived from
/// <see cref="EdgeJournal.InstanceId"/> and <paramref name="Id"/> (SHA-256). Publish with it so the cloud's inbox
/// drops the duplicates that at-least-once delivery produces.
/// </param>
/// <param name="OriginalTime">When the event happened (as given at append), in UTC.</param>
/// <param name="AppendedTime">When the journal committed the entry, in UTC.</param>
/// <param name="Attempts">Times this entry has been leased, this lease included; survives restarts.</param>
/// <param name="IsReplay">True for backlog: appended before the uplink last came back (or before the journal was opened).</param>
public sealed record JournalEntry(
    long Id,
    Guid MessageId,
    MessageClass Class,
    string MessageType,
    string ContentType,
    ReadOnlyMemory<byte> Payload,
    DateTimeOffset OriginalTime,
    DateTimeOffset AppendedTime,
    int Attempts,
    bool IsReplay)
{
    /// <summary>The <see cref="JournalAppend.TraceParent"/> it was appended with, or null.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The <see cref="JournalAppend.TraceState"/> it was appended with, or null.</summary>
    public string? TraceState { get; init; }
}

public enum AppendStatus
{
    /// <summary>Committed durably (the transaction holding it was fsynced).</summary>
    Appended,

    /// <summary>
    /// A failure prediction committed although the quota is exceeded: every other class had already been evicted,
    /// and losing an alert is worse than exceeding a quota. Counted on <c>pdm.journal.quota_exceeded</c>.
    /// </summary>
    AppendedOverQuota,

    /// <summary>Not stored: it did not fit in the quota even after evicting every class it may evict.</summary>
    Rejected,
}

/// <summary>The outcome of an append. <see cref="Id"/> and <see cref="MessageId"/> are empty when rejected.</summary>
public readonly record struct AppendResult(AppendStatus Status, long Id, Guid MessageId, string? Reason)
{
    public bool IsStored => Status != AppendStatus.Rejected;
}

/// <summary>Per-class counts since the journal was opened (plus what it holds now).</summary>
public sealed record JournalClassStatistics(
    MessageClass Class,
    int Count,
    long Bytes,
    long Appended,
    long Acknowledged,
    long Expired,
    long Evicted,
    long Rejected);

/// <summary>A snapshot of the journal for health checks, tests and logs.</summary>
public sealed record JournalStatistics(
    IReadOnlyList<JournalClassStatistics> Classes,
    long Bytes,
    long QuotaBytes,
    int Leased,
    int Backlog,
    bool UplinkUp,
    long Commits,
    long QuotaExceeded)
{
    public JournalClassStatistics this[MessageClass messageClass] => Classes[(int)messageClass];

    public int Count
    {
        get
        {
            var count = 0;
            foreach (var c in Classes)
            {
                count += c.Count;
            }

            return count;
        }
    }
}

/// <summary>The database could not be written (disk full, I/O error); nothing of the failed batch was committed.</summary>
public sealed class JournalStorageException : Exception
{
    public JournalStorageException()
    {
    }

    public JournalStorageException(string message)
        : base(message)
    {
    }

    public JournalStorageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// What a lease may cost (<see cref="EdgeJournal.LeaseWithinAsync"/>): the uplink's bandwidth ceiling turned into
/// bytes. An entry costs its payload plus <paramref name="OverheadBytesPerEntry"/> (what the transport adds around it:
/// the envelope, the headers). With <paramref name="FirstAlways"/>, the first entry goes whatever it costs (the caller's
/// bucket is full and the entry is larger than it: without this it could never go).
/// </summary>
public readonly record struct LeaseBudget(long Bytes, int OverheadBytesPerEntry, bool FirstAlways);

/// <summary>
/// The entries leased within a <see cref="LeaseBudget"/>, and the first entry that did not fit: its class and cost, so
/// the caller knows how long to wait and for what. <see cref="Waiting"/> is null when nothing sendable was left out.
/// </summary>
public sealed record BudgetedLease(IReadOnlyList<JournalEntry> Entries, MessageClass? Waiting, long WaitingBytes);
