using System.Diagnostics;
using System.Text.RegularExpressions;
using PdM.Edge.Journal;
using PdM.Testing;

namespace PdM.Edge.Journal.Tests;

/// <summary>
/// Real kill -9: a child process (tests/PdM.Edge.Journal.CrashTarget) appends and reports each committed id on
/// stdout; the test SIGKILLs it mid-stream (<see cref="Process.Kill()"/> sends SIGKILL on Linux) and reopens the journal.
/// </summary>
public sealed partial class CrashSafetyTests
{
    [Theory]
    [InlineData(25, 1)]
    [InlineData(600, 4)]
    [InlineData(2500, 16)]
    public async Task Every_append_reported_committed_survives_kill_9_and_the_journal_stays_sound(int killAfter, int writers)
    {
        using var folder = new TempFolder();
        var (lines, exitCode) = await RunAndKillAsync(["append", folder.Database, writers.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            lines => lines >= killAfter);
        Assert.Equal(137, exitCode);

        var committed = new Dictionary<long, Guid>();
        foreach (var line in lines)
        {
            var match = CommittedLine().Match(line);
            if (match.Success)
            {
                committed.Add(long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Guid.Parse(match.Groups[2].Value));
            }
        }

        Assert.True(committed.Count >= killAfter, $"the child reported {committed.Count} commits before the kill");

        await using var journal = EdgeJournal.Open(Journals.Options(folder.Database));
        Assert.Equal("ok", await journal.CheckIntegrityAsync());
        var held = (await Journals.LeaseAllAsync(journal)).ToDictionary(e => e.Id, e => e.MessageId);
        foreach (var (id, messageId) in committed)
        {
            Assert.True(held.TryGetValue(id, out var heldMessageId), $"committed entry {id} was lost");
            Assert.Equal(messageId, heldMessageId);
        }

        var next = await journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction));
        Assert.Equal(AppendStatus.Appended, next.Status);
        Assert.True(next.Id > held.Keys.Max());
        Assert.Equal("ok", await journal.CheckIntegrityAsync());
    }

    [Fact]
    public async Task An_entry_leased_but_not_acknowledged_before_kill_9_is_delivered_again_with_the_same_message_id()
    {
        using var folder = new TempFolder();
        var (lines, _) = await RunAndKillAsync(["lease", folder.Database], (_, line) => line == "ready");
        var leased = new Dictionary<long, Guid>();
        foreach (var line in lines)
        {
            var match = LeasedLine().Match(line);
            if (match.Success)
            {
                leased.Add(long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Guid.Parse(match.Groups[2].Value));
            }
        }

        Assert.Equal(5, leased.Count);

        await using var journal = EdgeJournal.Open(Journals.Options(folder.Database));
        var again = (await Journals.LeaseAllAsync(journal)).ToDictionary(e => e.Id);
        Assert.Equal(10, again.Count);
        foreach (var (id, messageId) in leased)
        {
            var entry = again[id];
            Assert.Equal(messageId, entry.MessageId);
            Assert.True(entry.IsReplay);
            Assert.Equal(2, entry.Attempts); // the attempt before the crash was recorded durably
        }
    }

    private static Task<(List<string> Lines, int ExitCode)> RunAndKillAsync(string[] arguments, Func<int, bool> killWhen) =>
        RunAndKillAsync(arguments, (count, _) => killWhen(count));

    private static async Task<(List<string> Lines, int ExitCode)> RunAndKillAsync(string[] arguments, Func<int, string, bool> killWhen)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(CrashTargetPath());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the crash target");
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                lines.Add(line);
                if (killWhen(lines.Count, line))
                {
                    break;
                }
            }
        }
        finally
        {
            process.Kill();
        }

        // Lines the child wrote before it died are still in the pipe: they count as reported.
        var rest = await process.StandardOutput.ReadToEndAsync();
        lines.AddRange(rest.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        await process.WaitForExitAsync();
        Assert.True(lines.Count > 0, $"the crash target printed nothing; stderr: {await stderr}");
        return (lines, process.ExitCode);
    }

    private static string DotnetHost() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static string CrashTargetPath()
    {
        // bin/<Configuration>/<tfm>/ of this test assembly, mirrored in the crash target's project folder.
        var tfmFolder = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = tfmFolder.Parent!.Name;
        var path = Path.Combine(LocalDependencies.RepositoryRoot, "tests", "PdM.Edge.Journal.CrashTarget", "bin", configuration, tfmFolder.Name,
            "PdM.Edge.Journal.CrashTarget.dll");
        Assert.True(File.Exists(path), $"build tests/PdM.Edge.Journal.CrashTarget first ({path} is missing)");
        return path;
    }

    [GeneratedRegex(@"^committed (\d+) ([0-9a-f-]{36})$")]
    private static partial Regex CommittedLine();

    [GeneratedRegex(@"^leased (\d+) ([0-9a-f-]{36})$")]
    private static partial Regex LeasedLine();
}
