using Microsoft.Extensions.Hosting;
using Npgsql;
using PdM.Persistence.Replica;
using PdM.Testing;

namespace PdM.Persistence.Tests;

/// <summary>
/// The shared outbox dispatcher run by several replicas of a module over one table (real PostgreSQL and RabbitMQ):
/// one delivers at a time, each message is published once and in its stream's order, a killed or frozen replica's lease
/// is taken over once it expires, a cleanly stopped one's at once, and message ids stay unique across a database restore.
/// </summary>
public sealed class OutboxReplicaTests
{
    private static readonly string[] Streams = ["pump-1", "pump-2", "pump-3", "pump-4"];

    [Fact]
    public async Task Two_replicas_on_one_table_publish_every_message_once_and_in_its_streams_order()
    {
        await using var rig = await ProbeRig.StartAsync("outbox_two");
        var lease = TimeSpan.FromSeconds(10);
        var first = await rig.StartReplicaAsync(lease);
        await Eventually.Until(rig.LeaseAsync, l => l?.Holder == ReplicaHost.Holder(first), TimeSpan.FromSeconds(30), "the first replica to hold the lease");
        var second = await rig.StartReplicaAsync(lease);

        // Four writers at once, 50 messages each: the streams interleave in the table.
        const int PerStream = 50;
        await Task.WhenAll(Streams.Select(s => rig.WriteAsync(s, 0, PerStream)));

        // Part-way, the first replica stops (a rolling deploy): the second must carry on where it stopped.
        await Eventually.Until(() => Task.FromResult(rig.Received.Count), n => n >= 60, TimeSpan.FromSeconds(60), "the first replica to publish 60 messages");
        await first.StopAsync();
        await Eventually.Until(() => Task.FromResult(rig.Received.Count), n => n >= Streams.Length * PerStream, TimeSpan.FromSeconds(90), "every message published");
        var rows = await Eventually.Until(rig.RowsAsync, r => r.All(m => m.Status == OutboxStatus.Delivered), TimeSpan.FromSeconds(30), "every row marked delivered");
        await Task.Delay(TimeSpan.FromMilliseconds(500)); // a late duplicate would arrive now

        var received = rig.Received.ToList();
        // A duplicate is a retried publish: name the rows that needed more than one attempt, and why.
        var retried = string.Join("\n", rows.Where(r => r.Attempts > 0).Select(r => $"row {r.Id} ({r.Stream}): {r.Attempts} failed attempt(s), last: {r.LastError}"));
        Assert.True(received.Count == Streams.Length * PerStream, $"{received.Count} messages received, {Streams.Length * PerStream} written; retried rows:\n{retried}");
        Assert.Equal(received.Count, received.Select(r => r.MessageId).Distinct().Count());
        Assert.Equal(rows.Select(r => r.MessageId).Order(), received.Select(r => r.MessageId).Order());
        foreach (var stream in Streams)
        {
            Assert.Equal(Enumerable.Range(0, PerStream), received.Where(r => r.Message.Stream == stream).Select(r => r.Message.Sequence));
        }

        Assert.Equal(ReplicaHost.Holder(second), (await rig.LeaseAsync())?.Holder);
    }

    [Fact]
    public async Task A_replica_killed_while_holding_the_lease_is_replaced_once_the_lease_expires_and_not_before()
    {
        await using var rig = await ProbeRig.StartAsync("outbox_kill");
        // Long enough that a live replica starved of CPU on a loaded machine does not lose it; the test waits it out once.
        var lease = TimeSpan.FromSeconds(10);
        using var doomed = await ReplicaProcess.StartAsync(rig.Settings(lease));
        await Eventually.Until(rig.LeaseAsync, l => l?.Holder == doomed.Holder, TimeSpan.FromSeconds(30), "the child replica to hold the lease");
        var survivor = await rig.StartReplicaAsync(lease);

        await rig.WriteAsync("before", 0, 10);
        await Eventually.Until(() => Task.FromResult(rig.Received.Count), n => n == 10, TimeSpan.FromSeconds(30), "the child replica to publish");

        doomed.Kill();
        var orphaned = (await rig.LeaseAsync())!.Value;
        Assert.True(doomed.Holder == orphaned.Holder, $"the child lost its lease while alive (now {orphaned.Holder}); its output:\n{doomed.Output}");
        await rig.WriteAsync("after", 0, 10);

        var after = await Eventually.Until(() => Task.FromResult(rig.Received.Where(r => r.Message.Stream == "after").ToList()),
            r => r.Count == 10, TimeSpan.FromSeconds(60), "the surviving replica to publish what the dead one left");

        // Nothing moved while the dead replica's lease was still valid; then the survivor took over and sent each once.
        Assert.All(after, r => Assert.True(r.At >= orphaned.ExpiresAt, $"published at {r.At:O}, before the dead replica's lease ran out at {orphaned.ExpiresAt:O}"));
        Assert.Equal(Enumerable.Range(0, 10), after.Select(r => r.Message.Sequence));
        Assert.Equal(20, rig.Received.Select(r => r.MessageId).Distinct().Count());
        Assert.Equal(ReplicaHost.Holder(survivor), (await rig.LeaseAsync())?.Holder);
    }

    /// <summary>
    /// SIGSTOP freezes the child holding the lease part-way through a backlog, its lease row and connections left as they
    /// are. The survivor takes over once the lease runs out on the database clock. Thawed, the child runs on from where it
    /// stopped, with rows in hand it loaded before: it checks the lease before its next row, finds it lost and sends
    /// nothing more. What it may still send is the one row it had begun when frozen, which the survivor sent too: the same
    /// row under the same message id, which an inbox drops.
    /// </summary>
    [Fact]
    public async Task A_replica_frozen_while_holding_the_lease_is_replaced_once_it_expires_and_thawed_sends_at_most_the_row_it_had_begun()
    {
        await using var rig = await ProbeRig.StartAsync("outbox_freeze");
        var lease = TimeSpan.FromSeconds(10);
        // Named, so the test can see the thawed child talk to the database although nothing it does then changes a row.
        const string ChildConnections = "pdm-frozen-replica";
        var settings = rig.Settings(lease);
        settings["ConnectionStrings:Postgres"] += ";Application Name=" + ChildConnections;
        using var frozen = await ReplicaProcess.StartAsync(settings);
        await Eventually.Until(rig.LeaseAsync, l => l?.Holder == frozen.Holder, TimeSpan.FromSeconds(30), "the child replica to hold the lease");
        var survivor = await rig.StartReplicaAsync(lease);

        // A backlog found whole: while the child works through it, it is mid-round (a batch loaded, not all of it sent).
        const int Backlog = 200;
        await rig.WriteAsync("backlog", 0, Backlog, atOnce: true);
        await Eventually.Until(() => Task.FromResult(rig.Received.Count), n => n >= 20, TimeSpan.FromSeconds(30), "the child replica to be publishing the backlog");
        frozen.Freeze();
        var held = (await rig.LeaseAsync())!.Value;
        Assert.True(frozen.Holder == held.Holder, $"the child lost its lease before it was frozen (now {held.Holder}); its output:\n{frozen.Output}");
        Assert.Contains(await rig.RowsAsync(), r => r.Status == OutboxStatus.Pending);

        await Eventually.Until(rig.RowsAsync, r => r.All(m => m.Status == OutboxStatus.Delivered), TimeSpan.FromSeconds(60), "the survivor to deliver what the frozen child left");
        var frozenSince = await rig.LastStatementAsync(ChildConnections);
        frozen.Thaw();
        await Eventually.Until(() => rig.LastStatementAsync(ChildConnections), at => at is { } t && (frozenSince is null || t > frozenSince), TimeSpan.FromSeconds(30),
            "the thawed child to run statements again");
        await rig.WriteAsync("after", 0, 20);
        var rows = await Eventually.Until(rig.RowsAsync, r => r.Count == Backlog + 20 && r.All(m => m.Status == OutboxStatus.Delivered), TimeSpan.FromSeconds(30),
            "the messages written after the thaw delivered");
        await Task.Delay(TimeSpan.FromSeconds(1)); // a late publish by the thawed child would arrive now
        Assert.False(frozen.HasExited, "the thawed child exited: " + frozen.Output);

        var received = rig.Received.ToList();
        var child = frozen.ProcessId;
        Assert.All(received.Where(r => r.SenderProcessId == Environment.ProcessId),
            r => Assert.True(r.At >= held.ExpiresAt, $"the survivor published at {r.At:O}, before the frozen child's lease ran out at {held.ExpiresAt:O}"));

        // Every row reached the collector, each under its row's one message id, so an inbox takes each once.
        Assert.Equal(rows.Select(r => r.MessageId).Order(), received.Select(r => r.MessageId).Distinct().Order());
        Assert.All(received.GroupBy(r => r.Message), copies => Assert.Single(copies.Select(c => c.MessageId).Distinct()));

        // Thawed, the child sent at most the row it had begun: then that one row arrived twice, once from each.
        var twice = received.GroupBy(r => r.MessageId).Where(g => g.Count() > 1).ToList();
        Assert.True(twice.Count <= 1, $"{twice.Count} rows published more than once: " +
            string.Join("; ", twice.Select(g => $"{g.First().Message} from {string.Join(", ", g.Select(c => c.SenderProcessId == child ? "the child" : "the survivor"))}")));
        Assert.All(twice, copies => Assert.Equal(new int?[] { child, Environment.ProcessId }.Order(), copies.Select(c => c.SenderProcessId).Order()));
        Assert.DoesNotContain(received, r => r.Message.Stream == "after" && r.SenderProcessId == child);
        Assert.Equal(ReplicaHost.Holder(survivor), (await rig.LeaseAsync())?.Holder);
    }

    /// <summary>
    /// A deploy stops the child holding the lease with SIGTERM: its host stops the dispatcher, which deletes its lease row
    /// on the way out, so the survivor's next round takes over. The lease is a minute long, renewed every 20 s: a survivor
    /// that had to wait for it to expire would publish nothing for at least 40 s after the stop.
    /// </summary>
    [Fact]
    public async Task A_replica_stopped_cleanly_hands_the_lease_over_at_once_not_when_it_would_have_expired()
    {
        await using var rig = await ProbeRig.StartAsync("outbox_handover");
        var lease = TimeSpan.FromSeconds(60);
        using var leaving = await ReplicaProcess.StartAsync(rig.Settings(lease));
        await Eventually.Until(rig.LeaseAsync, l => l?.Holder == leaving.Holder, TimeSpan.FromSeconds(30), "the child replica to hold the lease");
        var survivor = await rig.StartReplicaAsync(lease);
        await rig.WriteAsync("before", 0, 10);
        await Eventually.Until(() => Task.FromResult(rig.Received.Count), n => n == 10, TimeSpan.FromSeconds(30), "the child replica to publish");

        var held = (await rig.LeaseAsync())!.Value;
        Assert.Equal(leaving.Holder, held.Holder);
        Assert.Equal(0, await leaving.StopAsync(TimeSpan.FromSeconds(30)));
        await rig.WriteAsync("after", 0, 10);
        var after = await Eventually.Until(() => Task.FromResult(rig.Received.Where(r => r.Message.Stream == "after").ToList()),
            r => r.Count == 10, TimeSpan.FromSeconds(30), "the survivor to publish after the clean stop");

        Assert.All(after, r => Assert.True(r.At < held.ExpiresAt, $"published at {r.At:O}, not before the stopped replica's lease would have run out at {held.ExpiresAt:O}"));
        Assert.All(rig.Received, r => Assert.Equal(r.Message.Stream == "before" ? leaving.ProcessId : Environment.ProcessId, r.SenderProcessId));
        Assert.Equal(Enumerable.Range(0, 10), after.Select(r => r.Message.Sequence));
        Assert.Equal(20, rig.Received.Select(r => r.MessageId).Distinct().Count());
        Assert.Equal(ReplicaHost.Holder(survivor), (await rig.LeaseAsync())?.Holder);
    }

    /// <summary>
    /// A renewal the database made but whose answer reached its holder only after the lease had run out and the other
    /// replica had taken it over (the holder frozen, or the answer stalled, between the two). Caused by a trigger on the
    /// lease table that, once, after renewing the idle holder's row, sleeps past the lease and then hands the row to the
    /// other replica, as its takeover would; the backlog is written during the sleep. The late answer must not let its
    /// holder deliver the batch it loads next beside the replica that now holds the lease.
    /// </summary>
    [Fact]
    public async Task A_renewal_answered_after_the_lease_was_taken_over_lets_its_holder_deliver_nothing_beside_the_new_holder()
    {
        await using var rig = await ProbeRig.StartAsync("outbox_late_renewal");
        var lease = TimeSpan.FromSeconds(10);
        var stalled = await rig.StartReplicaAsync(lease);
        await Eventually.Until(rig.LeaseAsync, l => l?.Holder == ReplicaHost.Holder(stalled), TimeSpan.FromSeconds(30), "the first replica to hold the lease");
        var other = await rig.StartReplicaAsync(lease);

        var schema = ProbeDbContext.Schema;
        var sleep = (lease.TotalSeconds + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using (var connection = new NpgsqlConnection(rig.Database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var trigger = new NpgsqlCommand(
                $"""
                CREATE TABLE {schema}.stall (holder text PRIMARY KEY, successor text NOT NULL);
                CREATE FUNCTION {schema}.stall_renewal() RETURNS trigger LANGUAGE plpgsql AS $f$
                DECLARE next text;
                BEGIN
                    DELETE FROM {schema}.stall WHERE holder = NEW.holder RETURNING successor INTO next;
                    IF FOUND THEN
                        PERFORM pg_sleep({sleep});
                        UPDATE {schema}.outbox_lease SET holder = next, expires_at = clock_timestamp() + interval '{lease.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} seconds' WHERE name = NEW.name;
                    END IF;
                    RETURN NEW;
                END $f$;
                CREATE TRIGGER stall_renewal AFTER UPDATE ON {schema}.outbox_lease FOR EACH ROW EXECUTE FUNCTION {schema}.stall_renewal();
                """, connection);
            await trigger.ExecuteNonQueryAsync();
            await using var arm = new NpgsqlCommand($"INSERT INTO {schema}.stall VALUES ($1, $2)", connection);
            arm.Parameters.Add(new NpgsqlParameter { Value = ReplicaHost.Holder(stalled) });
            arm.Parameters.Add(new NpgsqlParameter { Value = ReplicaHost.Holder(other) });
            await arm.ExecuteNonQueryAsync();
        }

        await Eventually.Until(() => SleepingStatementsAsync(rig), n => n == 1, TimeSpan.FromSeconds(30), "the holder's renewal to stall");
        await rig.WriteAsync("backlog", 0, 30, atOnce: true);
        var rows = await Eventually.Until(rig.RowsAsync, r => r.All(m => m.Status == OutboxStatus.Delivered), TimeSpan.FromSeconds(60), "the backlog delivered");
        await Task.Delay(TimeSpan.FromSeconds(1)); // a late duplicate would arrive now

        var twice = rig.Received.GroupBy(r => r.MessageId).Where(g => g.Count() > 1).Select(g => g.First().Message.Sequence).ToList();
        Assert.True(twice.Count == 0, $"rows published twice, by the replica whose renewal came back late and by the new holder: {string.Join(", ", twice)}");
        Assert.Equal(rows.Select(r => r.MessageId).Order(), rig.Received.Select(r => r.MessageId).Order());
    }

    [Fact]
    public async Task After_a_database_restore_reused_row_ids_publish_under_new_message_ids_that_no_inbox_drops()
    {
        await using var rig = await ProbeRig.StartAsync("outbox_restore");
        await using var consumer = await TestDatabase.CreateAsync("outbox_restore_consumer");
        await using (var db = ProbeRig.Context(consumer.ConnectionString))
        {
            await db.Database.EnsureCreatedAsync();
        }

        // The backup: the producer's database while its outbox is still empty.
        var backup = rig.Database.Name + "_bak";
        NpgsqlConnection.ClearAllPools();
        await AdminAsync($"CREATE DATABASE \"{backup}\" TEMPLATE \"{rig.Database.Name}\"");
        try
        {
            var replica = await rig.StartReplicaAsync(TimeSpan.FromSeconds(10));
            await rig.WriteAsync("asset-7", 0, 1);
            await Eventually.Until(() => Task.FromResult(rig.Received.Count), n => n == 1, TimeSpan.FromSeconds(30), "the first message");
            var before = Assert.Single(await rig.RowsAsync());
            await replica.StopAsync();

            // The restore: the producer's database as it was in the backup, identity sequence included.
            NpgsqlConnection.ClearAllPools();
            await AdminAsync($"DROP DATABASE \"{rig.Database.Name}\" WITH (FORCE)");
            await AdminAsync($"CREATE DATABASE \"{rig.Database.Name}\" TEMPLATE \"{backup}\"");

            await rig.StartReplicaAsync(TimeSpan.FromSeconds(10));
            await rig.WriteAsync("asset-7", 1, 1);
            await Eventually.Until(() => Task.FromResult(rig.Received.Count), n => n == 2, TimeSpan.FromSeconds(30), "the message written after the restore");
            var after = Assert.Single(await rig.RowsAsync());

            Assert.Equal(before.Id, after.Id); // the restore really handed out the same row id again
            Assert.NotEqual(before.MessageId, after.MessageId);

            // A consumer's inbox (in its own, unrestored database) takes both: the second is news, not a duplicate.
            await using var db = ProbeRig.Context(consumer.ConnectionString);
            foreach (var message in rig.Received)
            {
                Assert.True(await Inbox.TryRecordAsync(db, message.MessageId, "probe-consumer", DateTimeOffset.UtcNow, CancellationToken.None));
            }

            Assert.False(await Inbox.TryRecordAsync(db, after.MessageId, "probe-consumer", DateTimeOffset.UtcNow, CancellationToken.None));
        }
        finally
        {
            await AdminAsync($"DROP DATABASE IF EXISTS \"{backup}\" WITH (FORCE)");
        }
    }

    /// <summary>
    /// The depth gauges the operations alerts watch (<c>pdm_outbox_pending</c>, <c>pdm_outbox_oldest_age</c>): rows still
    /// waiting are counted, delivered ones are not, and the age is the oldest waiting row's. Three rows are held back
    /// (their next attempt an hour away, as after repeated failures), written five minutes ago; two are due.
    /// </summary>
    [Fact]
    public async Task The_depth_gauges_count_the_rows_still_waiting_and_the_oldest_ones_age()
    {
        await using var rig = await ProbeRig.StartAsync("outbox_depth");
        var writtenAt = DateTimeOffset.UtcNow.AddMinutes(-5);
        await using (var db = ProbeRig.Context(rig.Database.ConnectionString))
        {
            for (var i = 0; i < 3; i++)
            {
                var held = ProbeDbContext.Routes.Create(new ProbeMessage("held", i), ProbeJsonContext.Default.ProbeMessage, writtenAt);
                held.NextAttemptAt = DateTimeOffset.UtcNow.AddHours(1);
                db.Outbox.Add(held);
            }

            await db.SaveChangesAsync();
        }

        await rig.WriteAsync("due", 0, 2);
        using var gauges = new OutboxGauges();
        await rig.StartReplicaAsync(TimeSpan.FromSeconds(10));
        await Eventually.Until(() => Task.FromResult(rig.Received.Count), n => n == 2, TimeSpan.FromSeconds(30), "the two due rows delivered");

        // The gauges report what the lease holder's last round saw: a round after the deliveries sees the three held rows.
        var pending = await Eventually.Until(() => Task.FromResult(gauges.Observe("pdm.outbox.pending")), p => p == 3, TimeSpan.FromSeconds(30), "three rows pending");
        var age = gauges.Observe("pdm.outbox.oldest_age");
        Assert.Equal(3, pending);
        Assert.InRange(age, 300, 400);
        Assert.Equal(2, rig.Received.Count);
    }

    private static async Task<long> SleepingStatementsAsync(ProbeRig rig)
    {
        await using var connection = new NpgsqlConnection(rig.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task AdminAsync(string sql)
    {
        await using var admin = new NpgsqlConnection(LocalDependencies.PostgresAdmin);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(sql, admin);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>The outbox meter's gauges for the probe outbox, read as a scrape reads them (observed on demand).</summary>
internal sealed class OutboxGauges : IDisposable
{
    private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, double> _last = new();

    public OutboxGauges()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == PdM.Persistence.OutboxTelemetry.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Keep(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Keep(instrument.Name, value, tags));
        _listener.Start();
    }

    /// <summary>The gauge's value for the probe outbox now, or -1 when it reports none.</summary>
    public double Observe(string instrument)
    {
        _last.Clear();
        _listener.RecordObservableInstruments();
        return _last.TryGetValue(instrument, out var value) ? value : -1;
    }

    public void Dispose() => _listener.Dispose();

    private void Keep(string instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "outbox" && Equals(tag.Value, ProbeDbContext.Schema))
            {
                _last[instrument] = value;
            }
        }
    }
}
