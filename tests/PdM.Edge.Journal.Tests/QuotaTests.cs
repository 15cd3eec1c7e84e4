using PdM.Edge.Journal;
using PdM.Testing;

namespace PdM.Edge.Journal.Tests;

public sealed class QuotaTests
{
    private const int Size = 1000;

    [Fact]
    public async Task Full_journal_evicts_oldest_feature_batches_then_heartbeats_then_health_assessments_and_keeps_every_prediction()
    {
        using var folder = new TempFolder();
        using var metrics = new JournalMetrics();
        var options = Journals.Options(folder.Database, o => o.QuotaBytes = 10 * Size);
        var predictions = new List<long>();
        await using (var journal = EdgeJournal.Open(options, new ManualTimeProvider(realTimers: true), metrics.Telemetry))
        {
            async Task<long> Add(MessageClass c, AppendStatus expected = AppendStatus.Appended)
            {
                var result = await journal.AppendAsync(Journals.Entry(c, Size));
                Assert.Equal(expected, result.Status);
                if (c == MessageClass.FailurePrediction)
                {
                    predictions.Add(result.Id);
                }

                return result.Id;
            }

            var fb1 = await Add(MessageClass.FeatureBatch);
            var hb1 = await Add(MessageClass.Heartbeat);
            var fb2 = await Add(MessageClass.FeatureBatch);
            var ha1 = await Add(MessageClass.HealthAssessment);
            await Add(MessageClass.FailurePrediction);
            var hb2 = await Add(MessageClass.Heartbeat);
            var fb3 = await Add(MessageClass.FeatureBatch);
            var ha2 = await Add(MessageClass.HealthAssessment);
            await Add(MessageClass.FailurePrediction);
            await Add(MessageClass.FailurePrediction); // exactly at the quota: nothing goes
            Assert.Equal(10 * Size, journal.Bytes);
            Assert.Equal(10, journal.SnapshotIds().Length);

            // Each further prediction pushes out one entry, in the documented order.
            long[] expectedVictims = [fb1, fb2, fb3, hb1, hb2, ha1, ha2];
            foreach (var victim in expectedVictims)
            {
                var before = journal.SnapshotIds();
                await Add(MessageClass.FailurePrediction);
                var gone = before.Except(journal.SnapshotIds()).ToArray();
                Assert.Equal([victim], gone);
                Assert.Equal(10 * Size, journal.Bytes);
            }

            // Only predictions are left: the next one is accepted over the quota and signalled.
            await Add(MessageClass.FailurePrediction, AppendStatus.AppendedOverQuota);
            Assert.Equal(11 * Size, journal.Bytes);

            // Anything else is refused rather than evicting an alert.
            await Add(MessageClass.FeatureBatch, AppendStatus.Rejected);
            await Add(MessageClass.Heartbeat, AppendStatus.Rejected);
            await Add(MessageClass.HealthAssessment, AppendStatus.Rejected);

            Assert.Equal(predictions, journal.SnapshotIds());
            var stats = journal.GetStatistics();
            Assert.Equal(1, stats.QuotaExceeded);
            Assert.Equal((3, 2, 2, 0), (stats[MessageClass.FeatureBatch].Evicted, stats[MessageClass.Heartbeat].Evicted,
                stats[MessageClass.HealthAssessment].Evicted, stats[MessageClass.FailurePrediction].Evicted));
            Assert.Equal((1, 1, 1, 0), (stats[MessageClass.FeatureBatch].Rejected, stats[MessageClass.Heartbeat].Rejected,
                stats[MessageClass.HealthAssessment].Rejected, stats[MessageClass.FailurePrediction].Rejected));

            Assert.Equal(3, metrics.Total("pdm.journal.dropped|class=feature_batch|reason=quota"));
            Assert.Equal(2, metrics.Total("pdm.journal.dropped|class=heartbeat|reason=quota"));
            Assert.Equal(2, metrics.Total("pdm.journal.dropped|class=health_assessment|reason=quota"));
            Assert.Equal(1, metrics.Total("pdm.journal.dropped|class=feature_batch|reason=quota_rejected"));
            Assert.Equal(0, metrics.Total("pdm.journal.dropped|class=failure_prediction|reason=quota"));
            Assert.Equal(0, metrics.Total("pdm.journal.dropped|class=failure_prediction|reason=quota_rejected"));
            Assert.Equal(1, metrics.Total("pdm.journal.quota_exceeded"));
            Assert.Equal(11, metrics.Total("pdm.journal.appended|class=failure_prediction"));
            Assert.Equal(11, metrics.Observe("pdm.journal.backlog|class=failure_prediction"));
            Assert.Equal(0, metrics.Observe("pdm.journal.backlog|class=feature_batch"));
            Assert.Equal(11 * Size, metrics.Observe("pdm.journal.bytes"));
        }

        // The evictions were committed: a restart brings back exactly the predictions.
        await using var reopened = EdgeJournal.Open(options);
        Assert.Equal("ok", await reopened.CheckIntegrityAsync());
        var all = await Journals.LeaseAllAsync(reopened);
        Assert.Equal(predictions, all.Select(e => e.Id));
    }

    [Fact]
    public async Task An_entry_only_evicts_classes_dropped_before_or_with_its_own()
    {
        using var folder = new TempFolder();
        await using var journal = EdgeJournal.Open(Journals.Options(folder.Database, o => o.QuotaBytes = 5 * Size), new ManualTimeProvider(realTimers: true));
        var hb1 = (await journal.AppendAsync(Journals.Entry(MessageClass.Heartbeat, Size))).Id;
        var hb2 = (await journal.AppendAsync(Journals.Entry(MessageClass.Heartbeat, Size))).Id;
        for (var i = 0; i < 3; i++)
        {
            await journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction, Size));
        }

        // A feature batch may only push out feature batches: there are none, so it is refused and the heartbeats stay.
        Assert.Equal(AppendStatus.Rejected, (await journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch, Size))).Status);
        Assert.Contains(hb1, journal.SnapshotIds());

        // A heartbeat pushes out the oldest heartbeat; a health assessment pushes out heartbeats, then health assessments.
        var hb3 = (await journal.AppendAsync(Journals.Entry(MessageClass.Heartbeat, Size))).Id;
        Assert.DoesNotContain(hb1, journal.SnapshotIds());
        var ha1 = (await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment, Size))).Id;
        Assert.DoesNotContain(hb2, journal.SnapshotIds());
        await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment, Size));
        Assert.DoesNotContain(hb3, journal.SnapshotIds());
        await journal.AppendAsync(Journals.Entry(MessageClass.HealthAssessment, Size));
        Assert.DoesNotContain(ha1, journal.SnapshotIds());
        Assert.Equal(5 * Size, journal.Bytes);
        Assert.Equal(3, journal.GetStatistics()[MessageClass.FailurePrediction].Count);
    }

    [Fact]
    public async Task An_entry_larger_than_the_whole_quota_is_refused_without_evicting_anything()
    {
        using var folder = new TempFolder();
        await using var journal = EdgeJournal.Open(Journals.Options(folder.Database, o => o.QuotaBytes = 5 * Size));
        for (var i = 0; i < 4; i++)
        {
            await journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch, Size));
        }

        var huge = await journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch, 6 * Size));
        Assert.Equal(AppendStatus.Rejected, huge.Status);
        Assert.Equal(4, journal.GetStatistics()[MessageClass.FeatureBatch].Count);
    }
}
