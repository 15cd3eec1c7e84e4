using System.Diagnostics;
using System.Globalization;

namespace PdM.Testing;

/// <summary>
/// <c>kill -NAME PID</c>, the one way the tests signal a process: a child they started (<c>STOP</c> freezes it with its
/// connections open, <c>CONT</c> thaws it, <c>TERM</c> and <c>INT</c> ask it to stop) or a shared server they did not
/// (<c>KILL</c>), for which no <see cref="Process"/> handle is worth trusting.
/// </summary>
public static class UnixSignal
{
    public static void Send(int pid, string name)
    {
        using var kill = Process.Start("kill", [$"-{name}", pid.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{name} {pid} exited with code {kill.ExitCode}");
        }
    }

    /// <summary>A server's pid as <c>deps.sh pid</c> prints it.</summary>
    public static void Send(string pid, string name) => Send(int.Parse(pid.Trim(), CultureInfo.InvariantCulture), name);
}
