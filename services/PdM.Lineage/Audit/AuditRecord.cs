namespace PdM.Lineage.Audit;

/// <summary>An action to append to the audit log (see <see cref="Persistence.AuditEntry"/> for the fields' meaning).</summary>
public sealed record AuditRecord(
    string Actor,
    string Action,
    string Subject,
    string? BeforeDigest,
    string? AfterDigest,
    string Detail,
    DateTimeOffset OccurredAt);

/// <summary>The result of walking the chain.</summary>
public sealed record AuditVerification
{
    public required bool Valid { get; init; }

    /// <summary>Entries whose link and content were checked.</summary>
    public required long CheckedEntries { get; init; }

    /// <summary>Sequence of the first broken link; null when the chain is intact.</summary>
    public long? FirstBrokenSequence { get; init; }

    /// <summary>What is wrong there: <c>content_altered</c>, <c>link_broken</c>, <c>entry_missing</c>.</summary>
    public string? Reason { get; init; }

    public string? Detail { get; init; }

    /// <summary>The checkpoint verification started from (0 when nothing was pruned).</summary>
    public required long AnchorSequence { get; init; }

    /// <summary>The newest entry and its hash: record the head hash elsewhere to detect a rewritten chain later.</summary>
    public required long HeadSequence { get; init; }

    public required string HeadHash { get; init; }
}
