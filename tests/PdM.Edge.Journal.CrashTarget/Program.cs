using System.Diagnostics;
using System.Globalization;
using PdM.Edge.Journal;

// append <path> <writers>: appends from <writers> concurrent loops until killed; prints "committed <id> <messageId>"
//   after each AppendAsync returns (Console.Out flushes every line, so a printed line means the append completed).
// lease <path>: appends 10 entries, leases 5, prints "leased <id> <messageId>" for each, then "ready", then waits.
// bench <folder>: measures appends/s with 1, 4, 16 and 64 concurrent writers and prints a table.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: append <path> <writers> | lease <path> | bench <folder>");
    return 2;
}

return args[0] switch
{
    "append" => await AppendUntilKilledAsync(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4),
    "lease" => await LeaseAndWaitAsync(args[1]),
    "bench" => await BenchmarkAsync(args[1]),
    _ => 2,
};

static async Task<int> AppendUntilKilledAsync(string path, int writers)
{
    await using var journal = EdgeJournal.Open(new JournalOptions { Path = path });
    var loops = new Task[writers];
    for (var w = 0; w < writers; w++)
    {
        var writer = w;
        loops[w] = Task.Run(async () =>
        {
            var payload = new byte[200];
            for (var i = 0; ; i++)
            {
                var messageClass = (MessageClass)((writer + i) % 4);
                var result = await journal.AppendAsync(new JournalAppend(messageClass, "pdm.test.crash", "application/octet-stream", payload, DateTimeOffset.UtcNow));
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"committed {result.Id} {result.MessageId:D}"));
            }
        });
    }

    await Task.WhenAll(loops);
    return 0;
}

static async Task<int> LeaseAndWaitAsync(string path)
{
    var journal = EdgeJournal.Open(new JournalOptions { Path = path });
    for (var i = 0; i < 10; i++)
    {
        var messageClass = i % 2 == 0 ? MessageClass.FeatureBatch : MessageClass.FailurePrediction;
        await journal.AppendAsync(new JournalAppend(messageClass, "pdm.test.lease", "application/json", "{}"u8.ToArray(), DateTimeOffset.UtcNow));
    }

    foreach (var entry in await journal.LeaseNextAsync(5))
    {
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"leased {entry.Id} {entry.MessageId:D}"));
    }

    Console.Out.WriteLine("ready");
    await Task.Delay(Timeout.Infinite);
    return 0;
}

static async Task<int> BenchmarkAsync(string folder)
{
    Console.WriteLine("| concurrent writers | appends | seconds | appends/s | commits | appends per commit |");
    Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
    foreach (var (writers, perWriter) in new[] { (1, 2_000), (4, 1_500), (16, 1_000), (64, 500) })
    {
        var path = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"bench-{writers}-{Guid.NewGuid():N}.db"));
        await using (var journal = EdgeJournal.Open(new JournalOptions { Path = path, QuotaBytes = 1L << 30 }))
        {
            var payload = new byte[256];
            var stopwatch = Stopwatch.StartNew();
            var loops = new Task[writers];
            for (var w = 0; w < writers; w++)
            {
                loops[w] = Task.Run(async () =>
                {
                    for (var i = 0; i < perWriter; i++)
                    {
                        await journal.AppendAsync(new JournalAppend(MessageClass.HealthAssessment, "pdm.bench", "application/octet-stream", payload, DateTimeOffset.UtcNow));
                    }
                });
            }

            await Task.WhenAll(loops);
            stopwatch.Stop();
            var appends = writers * perWriter;
            var commits = journal.GetStatistics().Commits;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {writers} | {appends} | {stopwatch.Elapsed.TotalSeconds:F2} | {appends / stopwatch.Elapsed.TotalSeconds:F0} | {commits} | {(double)appends / commits:F1} |"));
        }

        foreach (var file in Directory.GetFiles(folder, Path.GetFileName(path) + "*"))
        {
            File.Delete(file);
        }
    }

    return 0;
}
