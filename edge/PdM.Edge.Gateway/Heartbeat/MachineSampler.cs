using System.Diagnostics;
using System.Globalization;
using PdM.Contracts.Edge;

namespace PdM.Edge.Gateway.Heartbeat;

/// <summary>
/// CPU and memory of the gateway process and, on Linux, of the machine (<c>/proc/stat</c>, <c>/proc/meminfo</c>). CPU
/// is the share used since the previous sample, so a heartbeat reports its own interval, not an instant; the machine's
/// is left out of a sample taken before its counters have moved (the first, right after start).
/// </summary>
internal sealed class MachineSampler
{
    private readonly string _procRoot;
    private TimeSpan _lastProcessCpu;
    private long _lastTimestamp;
    private CpuTimes? _lastHost;

    public MachineSampler(string procRoot = "/proc")
    {
        _procRoot = procRoot;
        using var process = Process.GetCurrentProcess();
        _lastProcessCpu = process.TotalProcessorTime;
        _lastTimestamp = Stopwatch.GetTimestamp();
        _lastHost = ReadHostCpu();
    }

    public GatewayHostResources Sample()
    {
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var now = Stopwatch.GetTimestamp();
        var wall = Stopwatch.GetElapsedTime(_lastTimestamp, now);
        var processors = Environment.ProcessorCount;
        var processPercent = wall > TimeSpan.Zero ? Math.Clamp((cpu - _lastProcessCpu) / (wall * processors) * 100, 0, 100) : 0;
        _lastProcessCpu = cpu;
        _lastTimestamp = now;

        var host = ReadHostCpu();
        double? hostPercent = host is { } h && _lastHost is { } l ? CpuTimes.BusyPercent(l, h) : null;
        _lastHost = host;
        var memory = ReadMemInfo();
        return new GatewayHostResources
        {
            ProcessorCount = processors,
            ProcessCpuPercent = Math.Round(processPercent, 2),
            HostCpuPercent = hostPercent is { } p ? Math.Round(p, 2) : null,
            ProcessWorkingSetBytes = Environment.WorkingSet,
            HostMemoryTotalBytes = memory.Total,
            HostMemoryAvailableBytes = memory.Available,
        };
    }

    private CpuTimes? ReadHostCpu()
    {
        try
        {
            using var reader = new StreamReader(Path.Combine(_procRoot, "stat"));
            return CpuTimes.Parse(reader.ReadLine());
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private (long? Total, long? Available) ReadMemInfo()
    {
        try
        {
            long? total = null, available = null;
            foreach (var line in File.ReadLines(Path.Combine(_procRoot, "meminfo")))
            {
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    total = KibiBytes(line);
                }
                else if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    available = KibiBytes(line);
                }
            }

            return (total, available);
        }
        catch (IOException)
        {
            return (null, null);
        }
        catch (UnauthorizedAccessException)
        {
            return (null, null);
        }
    }

    private static long? KibiBytes(string line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kib) ? kib * 1024 : null;
    }
}

/// <summary>The aggregate <c>cpu</c> line of <c>/proc/stat</c>, in clock ticks since boot.</summary>
internal readonly record struct CpuTimes(ulong Busy, ulong Total)
{
    /// <summary>
    /// <c>cpu user nice system idle iowait irq softirq steal guest guest_nice</c>: idle and iowait are idle time; guest
    /// time is already counted in user and nice, so only the first eight fields make the total.
    /// </summary>
    public static CpuTimes? Parse(string? line)
    {
        if (line is null || !line.StartsWith("cpu ", StringComparison.Ordinal))
        {
            return null;
        }

        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 5)
        {
            return null;
        }

        ulong total = 0, idle = 0;
        for (var i = 1; i < Math.Min(fields.Length, 9); i++)
        {
            if (!ulong.TryParse(fields[i], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }

            total += value;
            if (i is 4 or 5)
            {
                idle += value;
            }
        }

        return new CpuTimes(total - idle, total);
    }

    public static double? BusyPercent(CpuTimes before, CpuTimes after)
    {
        if (after.Total <= before.Total || after.Busy < before.Busy)
        {
            return null;
        }

        return (after.Busy - before.Busy) * 100.0 / (after.Total - before.Total);
    }
}
