using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Data.Sqlite;
using PdM.Contracts.Decisions;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// A journal that cannot be written is a storage failure, not a link failure nor one message's fault, and must not stop
/// the gateway. Another SQLite connection holds the journal's write lock, a real storage fault: after the busy timeout
/// (<c>Journal:BusyTimeout</c>, 2 s here, 30 s by default) SQLite answers "database is locked", as it answers SQLITE_FULL
/// on a full file system, and the journal
/// throws <c>JournalStorageException</c>. The uplink's lease or acknowledgement failing so used to end its background
/// service and, with it, the whole gateway host; it now logs and retries. A decision's append failing so makes the
/// pipeline wait and retry, the readings unacknowledged to the broker and none dead-lettered; once the lock is gone they
/// are acknowledged and the prediction is journaled and delivered once.
/// </summary>
public sealed class JournalUnavailableTests
{
    [Fact]
    public async Task A_journal_locked_by_another_process_holds_readings_unacknowledged_without_stopping_the_gateway_and_they_are_decided_once_it_is_released()
    {
        var site = LocalDependencies.UniqueName("journal-locked").Replace('_', '-');
        var gateway = await GatewayUnderTest.StartAsync(site,
            [
                $"--Gateway:Mqtt:TopicFilters:0=pdm/{site}/+/telemetry", "--Gateway:SparkplugHost=false",
                $"--Gateway:FeatureSpecPath={TestFeatureSpecs.PerReading()}", "--Journal:BusyTimeout=00:00:02", .. TestGatewayArguments.Pumps(1),
            ]);
        try
        {
            var lifetime = gateway.Services.GetRequiredService<IHostApplicationLifetime>();
            var journalPath = Path.Combine(Path.GetTempPath(), "pdm-tests", site, "journal.db");
            var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = journalPath, Pooling = false }.ToString());
            await connection.OpenAsync();
            try
            {
                // BEGIN IMMEDIATE: the write lock, held until rolled back. The uplink leases about every second, so one of
                // its journal operations is the first to time out.
                using var writeLock = connection.BeginTransaction(deferred: false);
                await Eventually.Until(() => Task.FromResult(gateway.Logs.Contains("the journal cannot be written") || lifetime.ApplicationStopping.IsCancellationRequested),
                    done => done, TimeSpan.FromSeconds(75), "the uplink's journal operation failing with a storage error");
                Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the gateway stopped over a journal it cannot write");
                Assert.True(gateway.Logs.Contains("Uplink: the journal cannot be written", "database is locked"), "the failure is logged");

                // A device publishes while the journal cannot be written: the decisions cannot be stored, so the pipeline
                // waits and retries, and the gateway does not acknowledge the readings whose decisions wait (the broker
                // keeps them for its session) rather than acknowledging them and losing their decisions, or dead-lettering them as if they
                // were at fault. (The device's own publish completes either way: the broker acknowledges it.)
                using var device = await GatewayUnderTest.PublishOneZoneDReading(site);
                await Eventually.Until(() => Task.FromResult(gateway.Logs.Contains("Journal cannot store") || lifetime.ApplicationStopping.IsCancellationRequested),
                    done => done, TimeSpan.FromSeconds(60), "a decision's append failing with a storage error");
                await Task.Delay(TimeSpan.FromSeconds(3));
                Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the gateway stopped over an append it cannot store");
                // A healthy reading whose decision stores nothing may go through; the zone-D one and those after it wait.
                Assert.True(gateway.Metrics.Total("pdm.ingest.processed") < 3, "all three readings acknowledged while the journal could not store their decisions");
                Assert.Equal(0, gateway.Metrics.Total("pdm.pipeline.poisoned"));
                Assert.Empty(gateway.Events.OfType<FailurePredicted>());
                writeLock.Rollback();
            }
            finally
            {
                await connection.DisposeAsync();
            }

            // Writable again: the held readings are journaled and acknowledged, the zone-D one's prediction delivered
            // once, by a gateway still running.
            await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.ingest.processed")), n => n == 3, TimeSpan.FromSeconds(60),
                "the three held readings acknowledged after the lock was released");
            await Eventually.Until(() => Task.FromResult(gateway.Events.OfType<FailurePredicted>().Count), n => n == 1, TimeSpan.FromSeconds(60),
                "the prediction delivered after the lock was released");
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Single(gateway.Events.OfType<FailurePredicted>());
            Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the gateway kept running");
        }
        finally
        {
            await gateway.DisposeAsync();
        }
    }
}
