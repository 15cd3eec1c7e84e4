using PdM.Edge.Journal;
using PdM.Testing;

namespace PdM.Edge.Journal.Tests;

public sealed class LiveFirstDrainTests
{
    [Fact]
    public async Task A_failure_prediction_appended_during_a_10000_entry_replay_is_in_the_very_next_lease()
    {
        using var folder = new TempFolder();
        var time = new ManualTimeProvider(realTimers: true);
        await using var journal = EdgeJournal.Open(
            Journals.Options(folder.Database, o => { o.ReplayRatePerSecond = 100; o.ReplayBurst = 100; }), time);

        // The outage: 10,000 feature batches pile up.
        journal.UplinkDown();
        var outageStart = time.GetUtcNow();
        var backlog = await Task.WhenAll(Enumerable.Range(0, 10_000).Select(i =>
            journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch, 64, outageStart.AddSeconds(i)))));
        journal.UplinkUp();
        Assert.Equal(10_000, journal.GetStatistics().Backlog);

        // The drain is under way: replay entries come at the configured rate, marked and with their original time.
        var firstLease = await journal.LeaseNextAsync(500);
        Assert.Equal(100, firstLease.Count);
        Assert.All(firstLease, e => Assert.True(e.IsReplay));
        Assert.Equal(outageStart, firstLease[0].OriginalTime);
        Assert.Equal(backlog.Min(r => r.Id), firstLease[0].Id);
        await journal.AcknowledgeAsync([.. firstLease.Select(e => e.Id)]);
        time.Advance(TimeSpan.FromMilliseconds(500));

        var prediction = await journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction));
        var next = await journal.LeaseNextAsync(20);

        Assert.Equal(prediction.Id, next[0].Id);
        Assert.Equal(prediction.MessageId, next[0].MessageId);
        Assert.False(next[0].IsReplay);
        Assert.All(next.Skip(1), e => Assert.True(e.IsReplay && e.Class == MessageClass.FeatureBatch));
    }

    [Fact]
    public async Task Backlog_is_replayed_no_faster_than_the_configured_rate_while_live_entries_go_at_once()
    {
        using var folder = new TempFolder();
        var time = new ManualTimeProvider(realTimers: true);
        await using var journal = EdgeJournal.Open(
            Journals.Options(folder.Database, o => { o.ReplayRatePerSecond = 10; o.ReplayBurst = 5; }), time);
        journal.UplinkDown();
        for (var i = 0; i < 100; i++)
        {
            await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment));
        }

        journal.UplinkUp();
        Assert.Equal(5, (await journal.LeaseNextAsync(100)).Count);
        Assert.Empty(await journal.LeaseNextAsync(100));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(5, (await journal.LeaseNextAsync(100)).Count); // the bucket holds at most ReplayBurst

        time.Advance(TimeSpan.FromMilliseconds(300));
        for (var i = 0; i < 50; i++)
        {
            await journal.AppendAsync(Journals.Entry(MessageClass.Heartbeat));
        }

        var mixed = await journal.LeaseNextAsync(100);
        Assert.Equal(50, mixed.Count(e => !e.IsReplay));
        Assert.Equal(3, mixed.Count(e => e.IsReplay));
        Assert.All(mixed.Take(50), e => Assert.False(e.IsReplay));
    }

    [Fact]
    public async Task Entries_that_outlived_a_restart_are_backlog_and_new_ones_are_live()
    {
        using var folder = new TempFolder();
        var options = Journals.Options(folder.Database, o => { o.ReplayRatePerSecond = 1; o.ReplayBurst = 1; });
        await using (var journal = EdgeJournal.Open(options))
        {
            await journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction));
            await journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction));
        }

        var time = new ManualTimeProvider(realTimers: true);
        await using var reopened = EdgeJournal.Open(options, time);
        var live = await reopened.AppendAsync(Journals.Entry(MessageClass.Heartbeat));
        var lease = await reopened.LeaseNextAsync(10);

        Assert.Equal(2, lease.Count);
        Assert.Equal(live.Id, lease[0].Id);
        Assert.False(lease[0].IsReplay);
        Assert.True(lease[1].IsReplay);
        Assert.Equal(MessageClass.FailurePrediction, lease[1].Class);
    }

    [Fact]
    public async Task While_the_uplink_is_down_every_probe_offers_the_most_important_entry_first()
    {
        using var folder = new TempFolder();
        var time = new ManualTimeProvider(realTimers: true);
        await using var journal = EdgeJournal.Open(Journals.Options(folder.Database, o => o.ReplayBurst = 1), time);
        for (var i = 0; i < 20; i++)
        {
            await journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch));
        }

        journal.UplinkDown();
        var prediction = await journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction));
        var probe = await journal.LeaseNextAsync(30);

        Assert.Equal(21, probe.Count);
        Assert.Equal(prediction.Id, probe[0].Id);
        Assert.False(journal.IsUplinkUp);

        // The confirm proves the link works again.
        journal.Release([.. probe.Skip(1).Select(e => e.Id)]);
        await journal.AcknowledgeAsync([prediction.Id]);
        Assert.True(journal.IsUplinkUp);
        Assert.Equal(20, journal.GetStatistics().Backlog);
    }
}
