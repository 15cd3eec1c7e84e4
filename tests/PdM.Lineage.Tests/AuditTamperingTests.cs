using Npgsql;

namespace PdM.Lineage.Tests;

public sealed class AuditTamperingTests(LineageFixture fixture) : IClassFixture<LineageFixture>
{
    [Fact]
    public async Task Updates_are_refused_and_a_row_altered_directly_in_SQL_is_found_by_verify()
    {
        for (var i = 1; i <= 6; i++)
        {
            await fixture.WithAudit(a => a.AppendAsync(LineageFixture.Record(i), Guid.NewGuid(), CancellationToken.None));
        }

        var intact = await fixture.Verify();
        Assert.True(intact.Valid);
        Assert.Equal(6, intact.CheckedEntries);
        Assert.Equal(6, intact.HeadSequence);

        // The database refuses an ordinary UPDATE.
        var refused = await Assert.ThrowsAsync<PostgresException>(() => fixture.Sql("UPDATE lineage.audit_entries SET actor = 'mallory' WHERE sequence = 3"));
        Assert.Contains("append-only", refused.MessageText, StringComparison.Ordinal);

        // Someone with owner rights gets around the trigger: the chain gives it away.
        await fixture.Sql("ALTER TABLE lineage.audit_entries DISABLE TRIGGER audit_entries_append_only");
        await fixture.Sql("UPDATE lineage.audit_entries SET actor = 'mallory' WHERE sequence = 3");

        var altered = await fixture.Verify();
        Assert.False(altered.Valid);
        Assert.Equal(3, altered.FirstBrokenSequence);
        Assert.Equal("content_altered", altered.Reason);
        Assert.Contains("entry 3", altered.Detail, StringComparison.Ordinal);
        Assert.Equal(2, altered.CheckedEntries);
        Assert.Contains(fixture.Logs.Lines, l => l.StartsWith("Critical", StringComparison.Ordinal) && l.Contains("Audit chain broken at entry 3", StringComparison.Ordinal));

        // Re-computing the altered row's own hash does not help: the next row's link no longer matches.
        await fixture.Sql("UPDATE lineage.audit_entries SET hash = repeat('f', 64) WHERE sequence = 3");
        var relinked = await fixture.Verify();
        Assert.False(relinked.Valid);
        Assert.Equal(3, relinked.FirstBrokenSequence);

        // Retention never prunes away the evidence.
        Assert.Equal(0, await fixture.WithAudit(a => a.PruneAsync(DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None)));
        Assert.Equal(6, (await fixture.Entries()).Count);
    }
}
