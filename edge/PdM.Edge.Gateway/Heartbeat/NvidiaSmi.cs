using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using PdM.Contracts.Edge;

namespace PdM.Edge.Gateway.Heartbeat;

/// <summary>
/// NVIDIA GPU figures from <c>nvidia-smi --query-gpu</c> (the driver's own tool; NVML needs no extra package this way).
/// A machine without the tool on its PATH has no NVIDIA GPU as far as the gateway can tell: it is never run there, and
/// the heartbeat's <c>gpus</c> is absent. A figure the GPU does not support (<c>[N/A]</c>, <c>[Not Supported]</c>) is
/// absent too, never zero.
/// </summary>
public sealed partial class NvidiaSmi(ILogger<NvidiaSmi> logger)
{
    public const string Query = "index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw,power.limit";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly string? _path = FindOnPath("nvidia-smi");
    private bool _failedBefore;

    public bool Present => _path is not null;

    public async Task<IReadOnlyList<GatewayGpuStatus>?> QueryAsync(CancellationToken cancellationToken)
    {
        if (_path is null)
        {
            return null;
        }

        try
        {
            using var process = Process.Start(new ProcessStartInfo(_path, ["--query-gpu=" + Query, "--format=csv"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            }) ?? throw new InvalidOperationException("nvidia-smi did not start");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            var output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            if (process.ExitCode != 0)
            {
                // e.g. exit 9, "couldn't communicate with the NVIDIA driver": no usable GPU now.
                Warn($"exit code {process.ExitCode}: {(await process.StandardError.ReadToEndAsync(cancellationToken)).Trim()}");
                return null;
            }

            _failedBefore = false;
            return Parse(output);
        }
        catch (Exception exception) when (exception is Win32Exception or InvalidOperationException or IOException
                                          || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Warn(exception.Message);
            return null;
        }
    }

    /// <summary>
    /// Parses <c>--format=csv</c> output (a header naming each column with its unit, then one line per GPU): columns
    /// are found by name, so the same parser reads any query order and any subset of the fields.
    /// </summary>
    public static IReadOnlyList<GatewayGpuStatus> Parse(string csv)
    {
        ArgumentNullException.ThrowIfNull(csv);
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length < 2)
        {
            return [];
        }

        var header = lines[0].Split(',', StringSplitOptions.TrimEntries).Select(ColumnName).ToArray();
        int Column(string name) => Array.IndexOf(header, name);
        int index = Column("index"), name = Column("name"), utilization = Column("utilization.gpu"), used = Column("memory.used"),
            total = Column("memory.total"), temperature = Column("temperature.gpu"), draw = Column("power.draw"), limit = Column("power.limit");
        var gpus = new List<GatewayGpuStatus>(lines.Length - 1);
        for (var row = 1; row < lines.Length; row++)
        {
            var cells = lines[row].Split(',', StringSplitOptions.TrimEntries);
            string? Cell(int column) => column >= 0 && column < cells.Length ? cells[column] : null;
            gpus.Add(new GatewayGpuStatus
            {
                Index = Number(Cell(index)) is { } i ? (int)i : row - 1,
                Name = Cell(name) ?? "",
                UtilizationPercent = Number(Cell(utilization)),
                MemoryUsedBytes = Number(Cell(used)) is { } u ? (long)(u * 1024 * 1024) : null,
                MemoryTotalBytes = Number(Cell(total)) is { } t ? (long)(t * 1024 * 1024) : null,
                TemperatureC = Number(Cell(temperature)),
                PowerDrawWatts = Number(Cell(draw)),
                PowerLimitWatts = Number(Cell(limit)),
            });
        }

        return gpus;
    }

    /// <summary><c>memory.used [MiB]</c> → <c>memory.used</c>.</summary>
    private static string ColumnName(string header)
    {
        var unit = header.IndexOf(" [", StringComparison.Ordinal);
        return unit < 0 ? header : header[..unit];
    }

    /// <summary><c>120.50 W</c>, <c>50 %</c>, <c>8000 MiB</c>, <c>62</c> → the number; <c>[N/A]</c> and the like → null.</summary>
    private static double? Number(string? cell)
    {
        if (string.IsNullOrEmpty(cell) || cell[0] == '[')
        {
            return null;
        }

        var space = cell.IndexOf(' ', StringComparison.Ordinal);
        var number = space < 0 ? cell : cell[..space];
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    private static string? FindOnPath(string tool)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, OperatingSystem.IsWindows() ? tool + ".exe" : tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private void Warn(string reason)
    {
        // Once per failure streak: a driver that stays gone must not fill the log every heartbeat.
        if (!_failedBefore)
        {
            LogFailed(logger, reason);
            _failedBefore = true;
        }
    }

    [LoggerMessage(EventId = 1701, Level = LogLevel.Warning, Message = "nvidia-smi is installed but gave no GPU figures; the heartbeat reports none: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
