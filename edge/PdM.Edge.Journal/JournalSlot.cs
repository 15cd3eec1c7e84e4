namespace PdM.Edge.Journal;

/// <summary>What the <see cref="JournalIndex"/> knows of one entry (no payload).</summary>
internal sealed class JournalSlot(long id, MessageClass messageClass, int payloadBytes, long appendedTicks)
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
