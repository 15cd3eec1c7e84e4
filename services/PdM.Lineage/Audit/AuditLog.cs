using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PdM.Lineage.Persistence;
using PdM.Persistence;

namespace PdM.Lineage.Audit;

/// <summary>
/// Appends to, verifies and prunes the hash-chained audit log. Appends are serialised by a transaction-scoped advisory
/// lock, so the chain stays linear with any number of consumers and hosts.
/// </summary>
public sealed partial class AuditLog(LineageDbContext db, LineageTelemetry telemetry, TimeProvider clock, ILogger<AuditLog> logger)
{
    /// <summary>Advisory-lock key: "pdm.lineage.audit".</summary>
    private const long LockKey = 0x7064_6D61_7564_0001;

    /// <summary>Appends the record; a record with a source message id already in the log is not appended twice. Returns the entry's sequence.</summary>
    public async Task<long> AppendAsync(AuditRecord record, Guid? sourceMessageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken);
        if (sourceMessageId is { } id)
        {
            var existing = await db.AuditEntries.AsNoTracking().Where(e => e.SourceMessageId == id).Select(e => (long?)e.Sequence).SingleOrDefaultAsync(cancellationToken);
            if (existing is { } sequence)
            {
                telemetry.DuplicatesIgnored.Add(1);
                return sequence;
            }
        }

        var (lastSequence, lastHash) = await TailAsync(cancellationToken);
        var entry = new AuditEntry
        {
            Sequence = lastSequence + 1,
            OccurredAt = AuditHasher.ToStoredPrecision(record.OccurredAt),
            RecordedAt = AuditHasher.ToStoredPrecision(clock.GetUtcNow()),
            Actor = ColumnText.Clip(record.Actor, 200),
            Action = ColumnText.Clip(record.Action, 100),
            Subject = ColumnText.Clip(record.Subject, 300),
            BeforeDigest = record.BeforeDigest,
            AfterDigest = record.AfterDigest,
            Detail = record.Detail,
            SourceMessageId = sourceMessageId,
            PreviousHash = lastHash,
            Hash = string.Empty,
        };
        entry.Hash = AuditHasher.Compute(entry);
        db.AuditEntries.Add(entry);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.Entry(entry).State = EntityState.Detached;
        telemetry.EntriesAppended.Add(1, new KeyValuePair<string, object?>("action", entry.Action));
        return entry.Sequence;
    }

    /// <summary>
    /// Walks the chain from the latest checkpoint (or the genesis) and reports the first broken link: a row whose
    /// content no longer matches its hash, whose previous hash is not its predecessor's hash, or a missing sequence.
    /// </summary>
    public async Task<AuditVerification> VerifyAsync(long? upToSequence, CancellationToken cancellationToken)
    {
        var checkpoint = await db.AuditCheckpoints.AsNoTracking().OrderByDescending(c => c.AnchorSequence).FirstOrDefaultAsync(cancellationToken);
        var anchor = checkpoint?.AnchorSequence ?? 0;
        var expectedPrevious = checkpoint?.AnchorHash ?? AuditHasher.Genesis;
        var expectedSequence = anchor + 1;
        long checkedEntries = 0;
        var query = db.AuditEntries.AsNoTracking().Where(e => e.Sequence > anchor);
        if (upToSequence is { } limit)
        {
            query = query.Where(e => e.Sequence <= limit);
        }

        await foreach (var entry in query.OrderBy(e => e.Sequence).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            string? reason = null;
            string? detail = null;
            if (entry.Sequence != expectedSequence)
            {
                (reason, detail) = ("entry_missing", $"entry {expectedSequence} is missing (the next present is {entry.Sequence}): rows were deleted");
            }
            else if (!string.Equals(entry.PreviousHash, expectedPrevious, StringComparison.Ordinal))
            {
                (reason, detail) = ("link_broken", $"entry {entry.Sequence} names previous hash {entry.PreviousHash}, but its predecessor hashes to {expectedPrevious}");
            }
            else if (AuditHasher.Compute(entry) is var actual && !string.Equals(actual, entry.Hash, StringComparison.Ordinal))
            {
                (reason, detail) = ("content_altered", $"entry {entry.Sequence} ({entry.Action} on {entry.Subject}) hashes to {actual}, but its stored hash is {entry.Hash}: the row was altered");
            }

            if (reason is not null)
            {
                var broken = reason == "entry_missing" ? expectedSequence : entry.Sequence;
                telemetry.VerificationFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));
                LogBroken(logger, broken, reason, detail!);
                return new AuditVerification
                {
                    Valid = false, CheckedEntries = checkedEntries, FirstBrokenSequence = broken, Reason = reason, Detail = detail,
                    AnchorSequence = anchor, HeadSequence = expectedSequence - 1, HeadHash = expectedPrevious,
                };
            }

            checkedEntries++;
            expectedPrevious = entry.Hash;
            expectedSequence++;
        }

        return new AuditVerification
        {
            Valid = true, CheckedEntries = checkedEntries, AnchorSequence = anchor, HeadSequence = expectedSequence - 1, HeadHash = expectedPrevious,
        };
    }

    /// <summary>
    /// Retention: removes the entries recorded before <paramref name="cutoff"/> (a prefix of the chain) and leaves a
    /// checkpoint with the last removed entry's hash, so the rest still verifies. Refuses, and removes nothing, when
    /// the part to remove does not verify: evidence of tampering is never pruned away. Returns the entries removed.
    /// </summary>
    public async Task<long> PruneAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken);
        var last = await db.AuditEntries.AsNoTracking().Where(e => e.RecordedAt < cutoff).OrderByDescending(e => e.Sequence).FirstOrDefaultAsync(cancellationToken);
        if (last is null)
        {
            return 0;
        }

        var verification = await VerifyAsync(last.Sequence, cancellationToken);
        if (!verification.Valid)
        {
            LogPruneRefused(logger, verification.FirstBrokenSequence ?? 0, verification.Reason ?? "?");
            return 0;
        }

        var removed = await db.AuditEntries.Where(e => e.Sequence <= last.Sequence).ExecuteDeleteAsync(cancellationToken);
        db.AuditCheckpoints.Add(new AuditCheckpoint
        {
            AnchorSequence = last.Sequence,
            AnchorHash = last.Hash,
            PrunedEntries = removed,
            CreatedAt = AuditHasher.ToStoredPrecision(clock.GetUtcNow()),
        });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        telemetry.EntriesPruned.Add(removed);
        LogPruned(logger, removed, last.Sequence, last.Hash);
        return removed;
    }

    private async Task<(long Sequence, string Hash)> TailAsync(CancellationToken cancellationToken)
    {
        var last = await db.AuditEntries.AsNoTracking().OrderByDescending(e => e.Sequence).Select(e => new { e.Sequence, e.Hash }).FirstOrDefaultAsync(cancellationToken);
        if (last is not null)
        {
            return (last.Sequence, last.Hash);
        }

        var checkpoint = await db.AuditCheckpoints.AsNoTracking().OrderByDescending(c => c.AnchorSequence).FirstOrDefaultAsync(cancellationToken);
        return checkpoint is null ? (0, AuditHasher.Genesis) : (checkpoint.AnchorSequence, checkpoint.AnchorHash);
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Critical, Message = "Audit chain broken at entry {Sequence}: {Reason}: {Detail}")]
    private static partial void LogBroken(ILogger logger, long sequence, string reason, string detail);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Audit retention pruned {Removed} entries up to {Sequence}; checkpoint hash {Hash}")]
    private static partial void LogPruned(ILogger logger, long removed, long sequence, string hash);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Critical, Message = "Audit retention refused to prune: the chain is broken at entry {Sequence} ({Reason}); the evidence is kept")]
    private static partial void LogPruneRefused(ILogger logger, long sequence, string reason);
}
