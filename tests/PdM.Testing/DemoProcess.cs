using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PdM.Testing;

/// <summary>
/// The built all-in-one demo (demo/PdM.Demo: the host's modules, an embedded MQTT broker, the in-memory bus, the
/// simulator, the gateway and the CMMS stubs) run as its own process, as <c>make run</c> does, with its console captured.
/// </summary>
public sealed class DemoProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _console = new();

    private DemoProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>demo/PdM.Demo's build output; a missing one fails with instructions.</summary>
    public static string Dll
    {
        get
        {
            var dll = LocalDependencies.ProgramDll("demo", "PdM.Demo");
            return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing: build the solution first (make test does)");
        }
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the demo printed so far.</summary>
    public string Console
    {
        get
        {
            lock (_console)
            {
                return _console.ToString();
            }
        }
    }

    public static DemoProcess Start(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The test environment carries the local servers' settings (Gateway__Mqtt__Port, …); the demo must not see them.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Gateway__", StringComparison.Ordinal) || k.StartsWith("Simulator__", StringComparison.Ordinal) || k.StartsWith("Messaging__", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        return new DemoProcess(Process.Start(start)!);
    }

    /// <summary>Runs the demo with <paramref name="args"/> (e.g. <c>migrate</c>) to its end: exit code and console.</summary>
    public static async Task<(int ExitCode, string Output)> RunToEndAsync(IEnumerable<string> args)
    {
        using var process = Start(args);
        await process._process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, process.Console);
    }

    /// <summary>Ctrl-C, as a user stops it; true when it stopped within <paramref name="timeout"/> (else it is killed).</summary>
    public async Task<bool> InterruptAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return true;
        }

        UnixSignal.Send(_process.Id, "INT");
        var stopped = _process.WaitForExit(timeout);
        if (!stopped)
        {
            _process.Kill(entireProcessTree: true);
        }

        return stopped;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    /// <summary>A loopback TCP port free right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_console)
        {
            _console.AppendLine(line);
        }
    }
}
