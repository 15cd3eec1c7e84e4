using Npgsql;

namespace PdM.Persistence.Replica;

/// <summary>
/// One replica's round of a once-only job (<see cref="ExclusiveRun"/>) whose work never ends: it prints
/// "running &lt;job&gt;" once it holds the job's lock, then holds it until the process is killed. A round that finds the
/// lock taken prints "skipped &lt;job&gt;" and exits 3.
/// </summary>
public static class ExclusiveRunProbe
{
    public const string JobSetting = "ExclusiveRun:Job";

    public static async Task<int> RunAsync(string connectionString, string job)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var ran = await ExclusiveRun.TryAsync(dataSource, job, async cancellationToken =>
        {
            Console.WriteLine("running " + job);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }, CancellationToken.None);
        if (!ran)
        {
            Console.WriteLine("skipped " + job);
        }

        return ran ? 0 : 3;
    }
}
