namespace PdM.Lineage.Tests;

public sealed class AuditChainTests(LineageFixture fixture) : IClassFixture<LineageFixture>
{
    [Fact]
    public async Task Retention_prunes_behind_a_checkpoint_the_rest_still_verifies_and_a_deleted_row_is_found()
    {
        var redelivered = Guid.NewGuid();
        for (var i = 1; i <= 4; i++)
        {
            await fixture.WithAudit(a => a.AppendAsync(LineageFixture.Record(i), i == 2 ? redelivered : Guid.NewGuid(), CancellationToken.None));
        }

        // A redelivered message is recorded once.
        Assert.Equal(2, await fixture.WithAudit(a => a.AppendAsync(LineageFixture.Record(99), redelivered, CancellationToken.None)));
        var head = await fixture.Verify();
        Assert.Equal((true, 4L), (head.Valid, head.HeadSequence));

        var pruned = await fixture.WithAudit(a => a.PruneAsync(DateTimeOffset.UtcNow.AddSeconds(1), CancellationToken.None));
        Assert.Equal(4, pruned);
        Assert.Empty(await fixture.Entries());
        var anchored = await fixture.Verify();
        Assert.True(anchored.Valid);
        Assert.Equal((4L, 4L, head.HeadHash), (anchored.AnchorSequence, anchored.HeadSequence, anchored.HeadHash));

        // The chain continues from the checkpoint.
        for (var i = 5; i <= 8; i++)
        {
            await fixture.WithAudit(a => a.AppendAsync(LineageFixture.Record(i), Guid.NewGuid(), CancellationToken.None));
        }

        var entries = await fixture.Entries();
        Assert.Equal([5L, 6L, 7L, 8L], entries.Select(e => e.Sequence));
        Assert.Equal(head.HeadHash, entries[0].PreviousHash);
        var continued = await fixture.Verify();
        Assert.True(continued.Valid);
        Assert.Equal(4, continued.CheckedEntries);

        await fixture.Sql("DELETE FROM lineage.audit_entries WHERE sequence = 6");
        var gap = await fixture.Verify();
        Assert.False(gap.Valid);
        Assert.Equal(6, gap.FirstBrokenSequence);
        Assert.Equal("entry_missing", gap.Reason);
    }
}
