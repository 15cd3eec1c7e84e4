using PdM.Edge.Journal;

namespace PdM.Edge.Journal.Tests;

public sealed class DiskFullTests
{
    [Fact]
    public async Task A_full_disk_fails_the_append_loudly_keeps_what_was_committed_and_recovers_once_space_is_freed()
    {
        using var folder = new TempFolder();
        var options = Journals.Options(folder.Database, o => o.QuotaBytes = 1L << 30);
        var stored = new List<AppendResult>();
        JournalStorageException? full = null;

        // SQLite's max_page_count makes it answer SQLITE_FULL exactly as a full file system does.
        await using (var journal = EdgeJournal.Open(options, null, null, maxPageCount: 64))
        {
            for (var i = 0; i < 1000 && full is null; i++)
            {
                try
                {
                    stored.Add(await journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch, 2000)));
                }
                catch (JournalStorageException ex)
                {
                    full = ex;
                }
            }

            Assert.NotNull(full);
            Assert.Contains("full", full.Message, StringComparison.OrdinalIgnoreCase);
            Assert.True(stored.Count > 5);
            Assert.Equal(stored.Count, journal.GetStatistics()[MessageClass.FeatureBatch].Count);

            // Still full for a prediction: refused loudly, never reported as stored.
            await Assert.ThrowsAsync<JournalStorageException>(() => journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction, 2000)));

            // Delivering entries frees pages, even when the acknowledgement shares a commit with appends that fail;
            // appends work again without a restart.
            var sent = await journal.LeaseNextAsync(10);
            var failing = Enumerable.Range(0, 8).Select(_ => journal.AppendAsync(Journals.Entry(MessageClass.FeatureBatch, 2000))).ToArray();
            var acknowledged = journal.AcknowledgeAsync([.. sent.Select(e => e.Id)]);
            Assert.Equal(10, await acknowledged);
            foreach (var append in failing)
            {
                try
                {
                    stored.Add(await append);
                }
                catch (JournalStorageException)
                {
                    // Some of these may still fit once the acknowledgement freed pages; the others fail on their own.
                }
            }

            var afterFree = await journal.LeaseNextAsync(10);
            await journal.AcknowledgeAsync([.. afterFree.Select(e => e.Id)]);
            stored.RemoveAll(r => afterFree.Any(e => e.Id == r.Id) || sent.Any(e => e.Id == r.Id));
            stored.Add(await journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction, 2000)));
            Assert.Equal(AppendStatus.Appended, stored[^1].Status);
            Assert.Equal("ok", await journal.CheckIntegrityAsync());
        }

        await using var reopened = EdgeJournal.Open(options);
        Assert.Equal(stored.Select(r => r.Id).Order(), (await Journals.LeaseAllAsync(reopened)).Select(e => e.Id).Order());
    }
}
