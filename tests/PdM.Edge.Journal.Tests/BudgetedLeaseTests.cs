using PdM.Edge.Journal;
using PdM.Testing;

namespace PdM.Edge.Journal.Tests;

/// <summary>
/// Leases within a byte budget (the gateway uplink's bandwidth ceiling, issue #19 item 3): only what fits goes, in a
/// strict order where feature batches are the first to wait, and what is left out stays in the journal.
/// </summary>
public sealed class BudgetedLeaseTests
{
    [Fact]
    public async Task A_lease_takes_what_fits_in_priority_order_and_names_the_first_entry_left_out()
    {
        using var folder = new TempFolder();
        await using var journal = EdgeJournal.Open(Journals.Options(folder.Database), new ManualTimeProvider(realTimers: true));
        var prediction = await journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction, 100));
        var assessments = new List<AppendResult>();
        for (var i = 0; i < 3; i++)
        {
            assessments.Add(await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment, 100)));
        }

        // 120 bytes an entry (100 of payload, 20 of envelope): 400 bytes hold three.
        var lease = await journal.LeaseWithinAsync(100, new LeaseBudget(400, 20, FirstAlways: false));

        Assert.Equal([prediction.Id, assessments[0].Id, assessments[1].Id], lease.Entries.Select(e => e.Id));
        Assert.Equal(MessageClass.HealthAssessment, lease.Waiting);
        Assert.Equal(120, lease.WaitingBytes);

        // Left out is not lost: it is still held, unleased, and goes with the next budget.
        Assert.Equal(4, journal.GetStatistics().Count);
        var next = await journal.LeaseWithinAsync(100, new LeaseBudget(400, 20, FirstAlways: false));
        Assert.Equal([assessments[2].Id], next.Entries.Select(e => e.Id));
        Assert.Null(next.Waiting);
    }

    [Fact]
    public async Task Feature_batches_wait_behind_every_other_class_live_or_backlog_and_nothing_cheaper_overtakes()
    {
        using var folder = new TempFolder();
        await using var journal = EdgeJournal.Open(Journals.Options(folder.Database), new ManualTimeProvider(realTimers: true));

        // The outage's backlog: two health assessments and a heartbeat.
        journal.UplinkDown();
        var backlogAssessments = new[]
        {
            await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment, 100)),
            await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment, 100)),
        };
        var backlogHeartbeat = await journal.AppendAsync(Journals.Entry(MessageClass.Heartbeat, 100));
        journal.UplinkUp();

        // Live again: two feature batches and a heartbeat.
        var liveFeatures = new[]
        {
            await journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch, 100)),
            await journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch, 100)),
        };
        var liveHeartbeat = await journal.AppendAsync(Journals.Entry(MessageClass.Heartbeat, 100));

        // A budget too small for everything: the heartbeat, the backlog and its heartbeat go, the feature batches wait.
        var lease = await journal.LeaseWithinAsync(100, new LeaseBudget(450, 0, FirstAlways: false));
        Assert.Equal([liveHeartbeat.Id, backlogAssessments[0].Id, backlogAssessments[1].Id, backlogHeartbeat.Id], lease.Entries.Select(e => e.Id));
        Assert.Equal(MessageClass.FeatureBatch, lease.Waiting);

        var rest = await journal.LeaseWithinAsync(100, new LeaseBudget(1000, 0, FirstAlways: false));
        Assert.Equal(liveFeatures.Select(f => f.Id), rest.Entries.Select(e => e.Id));
        Assert.All(rest.Entries, e => Assert.False(e.IsReplay));

        // Without a budget the order is the journal's usual one: live feature batches before the backlog.
        journal.Release([.. lease.Entries.Select(e => e.Id), .. rest.Entries.Select(e => e.Id)]);
        var unbudgeted = await journal.LeaseNextAsync(100);
        Assert.Equal(liveFeatures[0].Id, unbudgeted[0].Id);
    }

    [Fact]
    public async Task A_cheap_feature_batch_does_not_overtake_a_costly_assessment_left_out()
    {
        using var folder = new TempFolder();
        await using var journal = EdgeJournal.Open(Journals.Options(folder.Database), new ManualTimeProvider(realTimers: true));
        await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment, 5000));
        await journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch, 10));

        var lease = await journal.LeaseWithinAsync(100, new LeaseBudget(1000, 0, FirstAlways: false));

        Assert.Empty(lease.Entries);
        Assert.Equal(MessageClass.HealthAssessment, lease.Waiting);
        Assert.Equal(5000, lease.WaitingBytes);
    }

    [Fact]
    public async Task An_entry_larger_than_any_budget_goes_alone_once_the_caller_says_its_bucket_is_full()
    {
        using var folder = new TempFolder();
        await using var journal = EdgeJournal.Open(Journals.Options(folder.Database), new ManualTimeProvider(realTimers: true));
        var large = await journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch, 50_000));
        await journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch, 10));

        Assert.Empty((await journal.LeaseWithinAsync(100, new LeaseBudget(4096, 0, FirstAlways: false))).Entries);
        var lease = await journal.LeaseWithinAsync(100, new LeaseBudget(4096, 0, FirstAlways: true));

        Assert.Equal([large.Id], lease.Entries.Select(e => e.Id));
        Assert.Equal(MessageClass.FeatureBatch, lease.Waiting);
    }

    [Fact]
    public async Task Live_feature_batches_wait_while_the_backlog_is_held_back_by_the_replay_rate()
    {
        using var folder = new TempFolder();
        var time = new ManualTimeProvider(realTimers: true);
        await using var journal = EdgeJournal.Open(
            Journals.Options(folder.Database, o => { o.ReplayRatePerSecond = 2; o.ReplayBurst = 2; }), time);
        journal.UplinkDown();
        for (var i = 0; i < 5; i++)
        {
            await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment, 100));
        }

        journal.UplinkUp();
        await journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch, 100));

        var lease = await journal.LeaseWithinAsync(100, new LeaseBudget(100_000, 0, FirstAlways: false));

        Assert.Equal(2, lease.Entries.Count);
        Assert.All(lease.Entries, e => Assert.True(e.IsReplay && e.Class == MessageClass.HealthAssessment));
        Assert.Null(lease.Waiting);
    }
}
