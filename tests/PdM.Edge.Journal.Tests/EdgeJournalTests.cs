using PdM.Edge.Journal;
using PdM.Testing;

namespace PdM.Edge.Journal.Tests;

public sealed class EdgeJournalTests
{
    [Fact]
    public async Task Lease_hands_out_live_entries_by_priority_then_age_with_everything_the_uplink_needs()
    {
        using var folder = new TempFolder();
        var time = new ManualTimeProvider(realTimers: true);
        await using var journal = EdgeJournal.Open(Journals.Options(folder.Database), time);
        var heartbeat = await journal.AppendAsync(Journals.Entry(MessageClass.Heartbeat));
        var batch1 = await journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch, fill: 1));
        var health = await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment));
        var batch2 = await journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch, fill: 2));
        var original = new DateTimeOffset(2026, 11, 20, 8, 30, 0, TimeSpan.FromHours(2));
        var prediction = await journal.AppendAsync(new JournalAppend(MessageClass.FailurePrediction, "PdM.Contracts.FailurePredicted", "application/json",
            "{\"asset\":\"pump-7\"}"u8.ToArray(), original));

        var leased = await journal.LeaseNextAsync(10);

        Assert.Equal([prediction.Id, health.Id, batch1.Id, batch2.Id, heartbeat.Id], leased.Select(e => e.Id));
        var first = leased[0];
        Assert.Equal(prediction.MessageId, first.MessageId);
        Assert.Equal(MessageClass.FailurePrediction, first.Class);
        Assert.Equal("PdM.Contracts.FailurePredicted", first.MessageType);
        Assert.Equal("application/json", first.ContentType);
        Assert.Equal("{\"asset\":\"pump-7\"}", System.Text.Encoding.UTF8.GetString(first.Payload.Span));
        Assert.Equal(original.UtcDateTime, first.OriginalTime.UtcDateTime);
        Assert.Equal(TimeSpan.Zero, first.OriginalTime.Offset);
        Assert.Equal(time.GetUtcNow(), first.AppendedTime);
        Assert.Equal(1, first.Attempts);
        Assert.False(first.IsReplay);
        Assert.Equal(2, leased[3].Payload.Span[0]);
        Assert.True(heartbeat.Id < batch1.Id && batch1.Id < health.Id && health.Id < batch2.Id && batch2.Id < prediction.Id);

        // Everything is leased: nothing more until released or the lease times out.
        Assert.Empty(await journal.LeaseNextAsync(10));
    }

    [Fact]
    public async Task Released_or_timed_out_entries_come_back_with_the_same_message_id_and_a_counted_attempt()
    {
        using var folder = new TempFolder();
        var time = new ManualTimeProvider(realTimers: true);
        await using var journal = EdgeJournal.Open(Journals.Options(folder.Database, o => o.LeaseTimeout = TimeSpan.FromSeconds(30)), time);
        var a = await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment));
        var b = await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment));

        var first = await journal.LeaseNextAsync(2);
        Assert.Equal(1, journal.Release([a.Id]));
        var second = await journal.LeaseNextAsync(2);
        Assert.Equal([a.Id], second.Select(e => e.Id));
        Assert.Equal(a.MessageId, second[0].MessageId);
        Assert.Equal(2, second[0].Attempts);

        time.Advance(TimeSpan.FromSeconds(31));
        var third = await journal.LeaseNextAsync(2);
        Assert.Equal([a.Id, b.Id], third.Select(e => e.Id));
        Assert.Equal([a.MessageId, b.MessageId], third.Select(e => e.MessageId));
        Assert.Equal([3, 2], third.Select(e => e.Attempts));
        Assert.Equal(first[1].MessageId, third[1].MessageId);
    }

    [Fact]
    public async Task An_entry_leaves_the_journal_only_when_acknowledged()
    {
        using var folder = new TempFolder();
        var options = Journals.Options(folder.Database);
        long kept;
        await using (var journal = EdgeJournal.Open(options))
        {
            var sent = await journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction));
            kept = (await journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction))).Id;
            var leased = await journal.LeaseNextAsync(2);
            Assert.Equal(2, leased.Count);

            Assert.Equal(1, await journal.AcknowledgeAsync([sent.Id]));
            Assert.Equal(0, await journal.AcknowledgeAsync([sent.Id]));
            Assert.Equal(1, journal.GetStatistics()[MessageClass.FailurePrediction].Count);
        }

        await using (var reopened = EdgeJournal.Open(options))
        {
            var all = await Journals.LeaseAllAsync(reopened);
            Assert.Equal([kept], all.Select(e => e.Id));
        }
    }

    [Fact]
    public async Task Message_ids_are_stable_across_reopen_unique_per_journal_and_kept_when_supplied()
    {
        using var folder = new TempFolder();
        using var other = new TempFolder();
        var supplied = Guid.NewGuid();
        AppendResult derived, given, inOther;
        Guid instance;
        await using (var journal = EdgeJournal.Open(Journals.Options(folder.Database)))
        {
            instance = journal.InstanceId;
            derived = await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment));
            given = await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment, messageId: supplied));
        }

        await using (var second = EdgeJournal.Open(Journals.Options(other.Database)))
        {
            inOther = await second.AppendAsync(Journals.Entry(MessageClass.HealthAssessment));
        }

        Assert.Equal(derived.Id, inOther.Id);
        Assert.NotEqual(derived.MessageId, inOther.MessageId);
        Assert.Equal(supplied, given.MessageId);

        await using var reopened = EdgeJournal.Open(Journals.Options(folder.Database));
        Assert.Equal(instance, reopened.InstanceId);
        var entries = await Journals.LeaseAllAsync(reopened);
        Assert.Equal([derived.MessageId, supplied], entries.Select(e => e.MessageId));
    }

    [Fact]
    public async Task Concurrent_appends_are_group_committed_and_all_durable()
    {
        using var folder = new TempFolder();
        var options = Journals.Options(folder.Database);
        const int Appenders = 200;
        AppendResult[] results;
        long commits;
        await using (var journal = EdgeJournal.Open(options))
        {
            var before = journal.GetStatistics().Commits;
            results = await Task.WhenAll(Enumerable.Range(0, Appenders).Select(i =>
                Task.Run(() => journal.AppendAsync(Journals.Entry((MessageClass)(i % 4), fill: (byte)i)))));
            commits = journal.GetStatistics().Commits - before;
        }

        Assert.All(results, r => Assert.Equal(AppendStatus.Appended, r.Status));
        Assert.Equal(Appenders, results.Select(r => r.Id).Distinct().Count());
        Assert.InRange(commits, 1, Appenders - 1);

        await using var reopened = EdgeJournal.Open(options);
        Assert.Equal("ok", await reopened.CheckIntegrityAsync());
        var all = await Journals.LeaseAllAsync(reopened);
        Assert.Equal(results.Select(r => r.Id).Order(), all.Select(e => e.Id).Order());
        Assert.Equal(results.Select(r => r.MessageId).Order(), all.Select(e => e.MessageId).Order());
    }

    [Fact]
    public async Task A_second_writer_on_the_same_journal_is_refused()
    {
        using var folder = new TempFolder();
        var options = Journals.Options(folder.Database);
        await using (var journal = EdgeJournal.Open(options))
        {
            var error = Assert.Throws<IOException>(() => EdgeJournal.Open(options));
            Assert.Contains("open in another process", error.Message, StringComparison.Ordinal);
        }

        await using var afterClose = EdgeJournal.Open(options);
        Assert.True((await afterClose.AppendAsync(Journals.Entry(MessageClass.Heartbeat))).IsStored);
    }

    [Fact]
    public async Task Appending_after_dispose_fails_loudly_instead_of_losing_the_entry()
    {
        using var folder = new TempFolder();
        var journal = EdgeJournal.Open(Journals.Options(folder.Database));
        await journal.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction)));
    }
}
