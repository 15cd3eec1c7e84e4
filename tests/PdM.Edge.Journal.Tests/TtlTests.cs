using PdM.Edge.Journal;
using PdM.Testing;

namespace PdM.Edge.Journal.Tests;

public sealed class TtlTests
{
    [Fact]
    public async Task Expired_entries_are_never_sent_then_purged_and_counted_while_failure_predictions_never_expire()
    {
        using var folder = new TempFolder();
        using var metrics = new JournalMetrics();
        var time = new ManualTimeProvider(realTimers: true);
        var options = Journals.Options(folder.Database, o =>
        {
            o.Ttl.Heartbeat = TimeSpan.FromHours(1);
            o.Ttl.FeatureBatch = TimeSpan.FromHours(2);
            o.Ttl.HealthAssessment = TimeSpan.FromHours(3);
        });
        await using var journal = EdgeJournal.Open(options, time, metrics.Telemetry);
        var hb1 = await journal.AppendAsync(Journals.Entry(MessageClass.Heartbeat));
        var fb1 = await journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch));
        var ha1 = await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment));
        var fp1 = await journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction));
        time.Advance(TimeSpan.FromMinutes(61));
        var hb2 = await journal.AppendAsync(Journals.Entry(MessageClass.Heartbeat));

        // Not yet purged, but already past its TTL: never handed to the uplink.
        journal.UplinkDown();
        var offered = await journal.LeaseNextAsync(10);
        Assert.Equal([fp1.Id, ha1.Id, fb1.Id, hb2.Id], offered.Select(e => e.Id));
        journal.Release([.. offered.Select(e => e.Id)]);

        time.Advance(TimeSpan.FromMinutes(59.5));
        Assert.Equal(2, await journal.PurgeExpiredAsync());
        Assert.Equal([ha1.Id, fp1.Id, hb2.Id], journal.SnapshotIds());
        Assert.DoesNotContain(hb1.Id, journal.SnapshotIds());

        time.Advance(TimeSpan.FromDays(1000));
        Assert.Equal(2, await journal.PurgeExpiredAsync());
        Assert.Equal([fp1.Id], journal.SnapshotIds());

        var stats = journal.GetStatistics();
        Assert.Equal((2, 1, 1, 0), (stats[MessageClass.Heartbeat].Expired, stats[MessageClass.FeatureBatch].Expired,
            stats[MessageClass.HealthAssessment].Expired, stats[MessageClass.FailurePrediction].Expired));
        Assert.Equal(2, metrics.Total("pdm.journal.dropped|class=heartbeat|reason=expired"));
        Assert.Equal(1, metrics.Total("pdm.journal.dropped|class=feature_batch|reason=expired"));
        Assert.Equal(1, metrics.Total("pdm.journal.dropped|class=health_assessment|reason=expired"));
        Assert.Equal(0, metrics.Total("pdm.journal.dropped|class=failure_prediction|reason=expired"));
    }

    [Fact]
    public async Task A_leased_entry_is_not_purged_under_the_uplink_that_is_sending_it()
    {
        using var folder = new TempFolder();
        var time = new ManualTimeProvider(realTimers: true);
        await using var journal = EdgeJournal.Open(Journals.Options(folder.Database, o =>
        {
            o.Ttl.Heartbeat = TimeSpan.FromMinutes(1);
            o.LeaseTimeout = TimeSpan.FromMinutes(10);
        }), time);
        var hb = await journal.AppendAsync(Journals.Entry(MessageClass.Heartbeat));
        Assert.Single(await journal.LeaseNextAsync(1));

        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, await journal.PurgeExpiredAsync());
        Assert.Equal(1, await journal.AcknowledgeAsync([hb.Id]));
        Assert.Equal(1, journal.GetStatistics()[MessageClass.Heartbeat].Acknowledged);
    }
}
