namespace PdM.Lineage.Persistence;

/// <summary>
/// One audited action. Append-only (an UPDATE trigger refuses changes); <see cref="Hash"/> =
/// SHA-256(<see cref="PreviousHash"/> ‖ canonical content), see <see cref="Audit.AuditHasher"/>.
/// </summary>
public sealed class AuditEntry
{
    /// <summary>1, 2, 3, … without gaps (assigned under a lock, not by a sequence): a gap means a deleted row.</summary>
    public long Sequence { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    public DateTimeOffset RecordedAt { get; set; }

    /// <summary>Who: a user name, <c>gateway:{id}</c> or <c>system:{module}</c>.</summary>
    public required string Actor { get; set; }

    /// <summary>What, dotted: <c>model.promoted.production</c>, <c>work-order.raised</c>.</summary>
    public required string Action { get; set; }

    /// <summary>On what: <c>model:{name}@{version}</c>, <c>deployment:{id}</c>, <c>work-order:{id}</c>.</summary>
    public required string Subject { get; set; }

    /// <summary>Digest of the state before (e.g. the package a promotion displaced), lower-case hex.</summary>
    public string? BeforeDigest { get; set; }

    /// <summary>Digest of the state after (e.g. the promoted package), lower-case hex.</summary>
    public string? AfterDigest { get; set; }

    /// <summary>The event as received, JSON text (not jsonb: jsonb would re-format what was hashed).</summary>
    public required string Detail { get; set; }

    /// <summary>The bus message id: a redelivery is recorded once.</summary>
    public Guid? SourceMessageId { get; set; }

    public required string PreviousHash { get; set; }

    public required string Hash { get; set; }
}

/// <summary>
/// Left behind when retention prunes the chain's oldest entries: the last pruned entry's sequence and hash, from
/// which verification continues. Publish <see cref="AnchorHash"/> somewhere independent to detect a rewritten past.
/// </summary>
public sealed class AuditCheckpoint
{
    public long Id { get; set; }

    public long AnchorSequence { get; set; }

    public required string AnchorHash { get; set; }

    public long PrunedEntries { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
