using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace PdM.Testing;

/// <summary>
/// A built program (the gateway, the host) run as a child process in Production, as it runs on a server: its console is
/// drained all along (a child blocked on a full pipe stops working) and kept, and it is killed with SIGKILL, not stopped.
/// </summary>
public sealed partial class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _readyMarker;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process, string readyMarker)
    {
        _process = process;
        _readyMarker = readyMarker;
    }

    /// <summary>Every line the child wrote so far, standard output and error interleaved.</summary>
    public IReadOnlyCollection<string> Output => _output;

    public bool HasExited => _process.HasExited;

    /// <summary>The child's process id (its <c>dotnet</c> process runs the program itself).</summary>
    public int Id => _process.Id;

    /// <summary>
    /// The HTTP address the child logged (<c>Now listening on: http://127.0.0.1:port</c>), for a program started with
    /// <c>--Urls=http://127.0.0.1:0</c>; the port is known only once it listens.
    /// </summary>
    public string HttpAddress =>
        _output.Select(line => ListeningLine().Match(line)).FirstOrDefault(m => m.Success)?.Groups[1].Value
            ?? throw new InvalidOperationException("the child process has not logged its HTTP address:\n" + string.Join('\n', _output.TakeLast(30)));

    /// <summary>Runs <c>dotnet <paramref name="dll"/> <paramref name="arguments"/></c>; <see cref="WaitReadyAsync"/> waits for a line containing <paramref name="readyMarker"/>.</summary>
    public static ChildProcess Start(string dll, IEnumerable<string> arguments, string readyMarker)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build the solution (make build) first");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        var child = new ChildProcess(new Process { StartInfo = start }, readyMarker);
        child._process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        child._process.Start();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for the ready line (120 s unless told otherwise); fails with the child's last lines.</summary>
    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(_ready.Task, exited, Task.Delay(limit));
        if (first == exited && !_ready.Task.IsCompleted)
        {
            // A child that stopped (a refused configuration, a crash) will never log the line: say so now, not at the limit.
            _process.WaitForExit(); // the last lines of its output are read
            throw new InvalidOperationException(
                $"child process exited with code {_process.ExitCode} before logging '{_readyMarker}':\n" + string.Join('\n', _output.TakeLast(30)));
        }

        if (first != _ready.Task && !_ready.Task.IsCompleted)
        {
            throw new TimeoutException($"child process did not log '{_readyMarker}' in {limit.TotalSeconds:0} s:\n" + string.Join('\n', _output.TakeLast(30)));
        }
    }

    /// <summary>SIGKILL, as <c>kill -9</c>: no shutdown, no lease or session released.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }

        _process.WaitForExit(10_000);
    }

    /// <summary>
    /// <c>kill -<paramref name="name"/></c>: <c>STOP</c> freezes the child with its connections open (as a paused VM or a
    /// long stall would), <c>CONT</c> thaws it, <c>TERM</c> asks it to stop as an orchestrator does.
    /// </summary>
    public void Signal(string name)
    {
        UnixSignal.Send(_process.Id, name);
    }

    /// <summary>Waits for the child to end on its own; its exit code, or a timeout that names its last lines.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"child process did not exit in {timeout.TotalSeconds:0} s:\n" + string.Join('\n', _output.TakeLast(30)));
        }

        _process.WaitForExit(); // the last lines of its output are read
        return _process.ExitCode;
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        if (line.Contains(_readyMarker, StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
