using Npgsql;
using PdM.Persistence.Replica;
using PdM.Testing;

namespace PdM.Persistence.Tests;

/// <summary>
/// A periodic once-only job's run (<see cref="ExclusiveRun"/>) across replicas, against real PostgreSQL: while one
/// replica's run holds the job's advisory lock the others' rounds skip it, and when that replica dies mid-run PostgreSQL
/// ends its session and with it the lock, so the next round elsewhere does the work.
/// </summary>
public sealed class ExclusiveRunTests
{
    private const string Job = "probe.once-only";

    [Fact]
    public async Task A_replica_killed_mid_run_leaves_the_job_to_the_next_round_elsewhere_which_skipped_while_it_lived()
    {
        await using var database = await TestDatabase.CreateAsync("exclusive_run");
        // The child's run prints "running" once it holds the lock, then never ends.
        using var doomed = ChildProcess.Start(ReplicaProcess.Program,
            [$"--ConnectionStrings:Postgres={database.ConnectionString}", $"--{ExclusiveRunProbe.JobSetting}={Job}"], "running " + Job);
        await doomed.WaitReadyAsync(TimeSpan.FromSeconds(60));

        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        var worked = 0;
        Task<bool> RoundAsync() => ExclusiveRun.TryAsync(dataSource, Job, _ =>
        {
            Interlocked.Increment(ref worked);
            return Task.CompletedTask;
        }, CancellationToken.None);

        for (var round = 0; round < 3; round++)
        {
            Assert.False(await RoundAsync(), "a round ran the job while the child's run held it");
        }

        Assert.Equal(0, worked);
        Assert.False(doomed.HasExited, "the child's run ended on its own:\n" + string.Join('\n', doomed.Output));

        doomed.Kill();
        await Eventually.Until(RoundAsync, ran => ran, TimeSpan.FromSeconds(30), "a round after the kill to run the job");
        Assert.Equal(1, worked);
    }
}
