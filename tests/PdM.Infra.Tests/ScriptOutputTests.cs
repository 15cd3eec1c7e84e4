using System.Diagnostics;
using System.Globalization;
using PdM.Testing;

namespace PdM.Infra.Tests;

/// <summary>
/// The tests run infra/local/deps.sh through <see cref="LocalDependencies.RunScript"/>, which reads the script's output to
/// its end. A process the script leaves running with that output inherited (a server started without its own log) would
/// keep it open for as long as it lives: the call must fail and say so, not wait for that process (a test once held a
/// CI run until its time limit).
/// </summary>
public sealed class ScriptOutputTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pdm-script-output").FullName;

    // Where each test's script writes the pid of the process it leaves running (killed on dispose).
    private string PidFile => Path.Combine(_folder, "sleeper.pid");

    [Fact]
    public void A_process_left_holding_the_scripts_output_fails_the_call_instead_of_holding_it()
    {
        var script = Write("leaves-output-open.sh", $"sleep 300 &\necho $! > {PidFile}\necho started\n");

        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<TimeoutException>(() => LocalDependencies.RunScript(script, "", new Dictionary<string, string>(), TimeSpan.FromSeconds(1)));

        Assert.Contains("still holds its output open", error.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the call took {clock.Elapsed}: it waited for the process left running");
        Assert.False(ProcessIsGone(PidFile), "the process the script left running should still be running: the call returned on its own");
    }

    [Fact]
    public void A_process_left_running_with_its_own_output_does_not_hold_the_call()
    {
        var script = Write("leaves-server.sh", $"sleep 300 > /dev/null 2>&1 &\necho $! > {PidFile}\necho started\n");

        var output = LocalDependencies.RunScript(script, "", new Dictionary<string, string>(), TimeSpan.FromSeconds(1));

        Assert.Equal("started", output.Trim());
    }

    public void Dispose()
    {
        if (File.Exists(PidFile) && int.TryParse(File.ReadAllText(PidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            try
            {
                using var sleeper = Process.GetProcessById(pid);
                sleeper.Kill();
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        Directory.Delete(_folder, recursive: true);
    }

    private string Write(string name, string body)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, "#!/usr/bin/env bash\n" + body);
        return path;
    }

    private static bool ProcessIsGone(string pidFile)
    {
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }
}
