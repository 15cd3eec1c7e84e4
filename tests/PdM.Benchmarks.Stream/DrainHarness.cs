using System.Diagnostics;
using System.Globalization;

namespace PdM.Benchmarks.Stream;

/// <summary>
/// One consumer's measured run. Seconds and CPU are from its first message to its last, for every consumer alike;
/// readings, decisions and batches are the gateway's own metrics (null for consumers that have none).
/// </summary>
public sealed record ConsumerRun(
    string Consumer,
    string Scenario,
    long Messages,
    double Seconds,
    double CpuSeconds,
    double PeakRssMb,
    double PublishRate,
    long? Readings = null,
    long? Decisions = null,
    long? Batches = null,
    long? BatchRows = null,
    double? P50Ms = null,
    double? P99Ms = null,
    long? AllocatedBytes = null,
    long? JitCompiledMethods = null)
{
    public double MessagesPerSecond => Messages / Seconds;

    public double CpuMicrosecondsPerMessage => CpuSeconds * 1e6 / Messages;

    public double? MeanBatch => Batches is > 0 ? (double)BatchRows!.Value / Batches.Value : null;

    /// <summary>Bytes the consumer process allocated per message, first to last (all threads).</summary>
    public double? AllocatedBytesPerMessage => AllocatedBytes is { } bytes ? (double)bytes / Messages : null;

    /// <summary>Every figure the consumer reported, by name (a gateway's also says where its latency tail came from).</summary>
    public IReadOnlyDictionary<string, double> Fields { get; init; } = new Dictionary<string, double>();

    /// <summary>The latency tail's diagnosis, "name=value" pairs: slow decisions and their bursts, GC pauses, run-queue wait.</summary>
    public string Tail => string.Join(' ', TailFields.Where(Fields.ContainsKey).Select(f => string.Create(CultureInfo.InvariantCulture, $"{f}={Fields[f]:0.#}")));

    private static readonly string[] TailFields = ["slow", "slow_bursts", "max_ms", "gc_server", "gc_pause_ms", "gc0", "gc1", "gc2", "runq_wait_ms"];
}

/// <summary>
/// Runs each consumer in its own process on a queued backlog of the stream (or a live, paced stream) and measures it
/// the same way: a persistent QoS 1 session exists first, the stream is published and queued for it, the consumer
/// connects and drains it, and its session is deleted afterwards. Time and CPU run from the consumer's first message
/// to its last: the .NET consumers measure themselves; <c>mosquitto_sub</c>'s output goes to a pipe this harness reads
/// in large blocks and throws away, timing the first byte and the N-th line and reading the process's CPU from
/// <c>/proc</c> at those two moments. A .NET consumer is warmed up first in the same process on a warm-up stream of
/// <paramref name="warmup"/> messages, until its JIT is quiet (see <c>Consumers</c>): what is timed is the steady
/// state of code that runs for months, not the runtime's first-seconds recompilation. <c>mosquitto_sub</c> is native
/// and needs none.
/// </summary>
public sealed class DrainHarness(int port, string consumerDll, int warmup)
{
    /// <summary>Drains a backlog of <paramref name="stream"/> with <c>mosquitto_sub -q 1</c>.</summary>
    public async Task<ConsumerRun> MosquittoSubAsync(BenchPlant stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var id = $"bench-mosquitto_sub-{Environment.ProcessId}";
        var prime = Process.Start(MosquittoSub(id, "-E"))!;
        await prime.WaitForExitAsync().ConfigureAwait(false);
        var publishRate = await stream.PublishAsync(port).ConfigureAwait(false);
        using var process = Process.Start(MosquittoSub(id))!;
        var stderr = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.BaseStream;
        var buffer = new byte[1 << 16];
        long lines = 0;
        long firstAt = 0;
        double cpuAtFirst = 0;
        var deadline = Stopwatch.StartNew();
        while (lines < stream.Messages)
        {
            var read = await output.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromMinutes(2)).ConfigureAwait(false);
            if (read == 0)
            {
                throw new InvalidOperationException($"mosquitto_sub ended after {lines} of {stream.Messages} messages: {await stderr.ConfigureAwait(false)}");
            }

            if (firstAt == 0)
            {
                firstAt = Stopwatch.GetTimestamp();
                cpuAtFirst = ProcessCpuSeconds(process.Id);
            }

            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        }

        var seconds = Stopwatch.GetElapsedTime(firstAt).TotalSeconds;
        var cpu = ProcessCpuSeconds(process.Id) - cpuAtFirst;
        var peak = PeakRssMb(process.Id);
        process.Kill();
        await process.WaitForExitAsync().ConfigureAwait(false);
        await BenchPlant.ForgetSessionAsync(port, id).ConfigureAwait(false);
        if (lines != stream.Messages)
        {
            throw new InvalidOperationException($"mosquitto_sub printed {lines} messages, the stream has {stream.Messages}");
        }

        return new ConsumerRun("mosquitto_sub", "-", lines, seconds, cpu, peak, publishRate);
    }

    /// <summary>
    /// Drains a backlog with a .NET consumer (<c>mqttnet</c> or <c>gateway</c>); for the gateway, fails unless it
    /// accepted every reading and made exactly <paramref name="expectedDecisions"/> decisions.
    /// </summary>
    public async Task<ConsumerRun> DrainAsync(string consumer, string scenario, BenchPlant stream, IReadOnlyList<string> gatewaySettings, long? expectedDecisions)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var id = $"bench-{consumer}-{scenario}-{Environment.ProcessId}";
        var child = Start(consumer, "drain", id, stream.Messages, gatewaySettings);
        await WarmUp(child, stream).ConfigureAwait(false);
        await Rehearse(child, stream).ConfigureAwait(false);
        var publishRate = await stream.PublishAsync(port).ConfigureAwait(false);
        await child.Process.StandardInput.WriteLineAsync("go").ConfigureAwait(false);
        var run = await Finish(child).ConfigureAwait(false);
        await BenchPlant.ForgetSessionAsync(port, id).ConfigureAwait(false);
        return Verified(run.ToRun(consumer, scenario, publishRate), stream, expectedDecisions);
    }

    /// <summary>
    /// A connected gateway fed the stream live at <paramref name="ratePerSecond"/>; reports the gateway's receipt-to-decision
    /// latency (p50, p99) and fails on the same counts as a drain.
    /// </summary>
    public async Task<ConsumerRun> LiveAsync(string consumer, string scenario, BenchPlant stream, IReadOnlyList<string> gatewaySettings, long? expectedDecisions, double ratePerSecond)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var id = $"bench-{consumer}-{scenario}-live-{Environment.ProcessId}";
        var child = Start(consumer, "live", id, stream.Messages, gatewaySettings);
        await WarmUp(child, stream).ConfigureAwait(false);
        await Rehearse(child, stream).ConfigureAwait(false);
        await child.Process.StandardInput.WriteLineAsync("go").ConfigureAwait(false);
        await WaitFor(child.Process, "ready").ConfigureAwait(false);
        var publishRate = await stream.PublishLiveWithMosquittoPubAsync(port, ratePerSecond).ConfigureAwait(false);
        var run = await Finish(child).ConfigureAwait(false);
        await BenchPlant.ForgetSessionAsync(port, id).ConfigureAwait(false);
        return Verified(run.ToRun(consumer, scenario + " live", publishRate), stream, expectedDecisions);
    }

    /// <summary>A gateway connected with nothing to do for <paramref name="seconds"/>; returns its CPU share in percent of one core.</summary>
    public async Task<double> IdleCpuPercentAsync(IReadOnlyList<string> gatewaySettings, int seconds)
    {
        var id = $"bench-idle-{Environment.ProcessId}";
        var run = await Finish(Start("gateway", "idle", id, seconds, gatewaySettings)).ConfigureAwait(false);
        await BenchPlant.ForgetSessionAsync(port, id).ConfigureAwait(false);
        return run.Fields["idle_cpu_pct"];
    }

    private static ConsumerRun Verified(ConsumerRun run, BenchPlant stream, long? expectedDecisions)
    {
        var problems = new List<string>();
        if (run.Messages != stream.Messages)
        {
            problems.Add($"processed {run.Messages} messages, the stream has {stream.Messages}");
        }

        if (run.Readings is { } readings && readings != stream.ExpectedReadings)
        {
            problems.Add($"accepted {readings} readings, the stream has {stream.ExpectedReadings}");
        }

        if (expectedDecisions is { } expected && run.Decisions != expected)
        {
            problems.Add($"made {run.Decisions} decisions, the stream must produce {expected}");
        }

        return problems.Count == 0 ? run : throw new InvalidOperationException($"{run.Consumer} ({run.Scenario}): {string.Join("; ", problems)}");
    }

    private ProcessStartInfo MosquittoSub(string id, string? extra = null)
    {
        var start = new ProcessStartInfo("mosquitto_sub") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-V", "mqttv5", "-c", "-x", "3600", "-i", id, "-q", "1", "-t", BenchPlant.TopicFilter })
        {
            start.ArgumentList.Add(argument);
        }

        if (extra is not null)
        {
            start.ArgumentList.Add(extra);
        }

        return start;
    }

    private Child Start(string consumer, string mode, string id, int count, IReadOnlyList<string> gatewaySettings)
    {
        // /usr/bin/time for the peak RSS; the consumer reports its own first-to-last time and CPU.
        var start = new ProcessStartInfo("/usr/bin/time") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var part in new[] { "-f", "time %e %U %S %M", "dotnet", consumerDll, "consumer", consumer, mode, port.ToString(CultureInfo.InvariantCulture), id, count.ToString(CultureInfo.InvariantCulture), warmup.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(part);
        }

        start.Environment["PDM_BENCH_GATEWAY_ARGS"] = string.Join('\n', gatewaySettings);
        // Tiering starts counting calls at once instead of after 100 ms without new tier-0 code (the runtime's default,
        // which a host's start-up keeps postponing): the warm-up and the rehearsal then leave hot code at tier 1, as
        // in a gateway that has run for a while. It changes when code is recompiled, not the code the steady state
        // runs; the table's "methods JIT-compiled while measured" column shows what was still compiled.
        start.Environment["DOTNET_TC_CallCountingDelayMs"] = "0";
        start.Environment["PDM_BENCH_HARNESS_RUNTIME"] = "DOTNET_TC_CallCountingDelayMs";
        var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + consumer);
        return new Child(process, process.StandardError.ReadToEndAsync());
    }

    /// <summary>The consumer's warm-up instance is connected: publish the warm-up stream live, then wait until it has let go.</summary>
    private async Task WarmUp(Child child, BenchPlant stream)
    {
        await WaitFor(child.Process, "ready").ConfigureAwait(false);
        if (warmup > 0)
        {
            await new BenchPlant(stream.Assets, warmup, stream.StartUnixMs, stream.StepMs).PublishAsync(port).ConfigureAwait(false);
        }

        await WaitFor(child.Process, "warm").ConfigureAwait(false);
    }

    /// <summary>
    /// The rehearsal: a warm-up-sized backlog queued for the consumer's session and drained by a fresh instance, as the
    /// measured one will be, so the measured instance finds its start-up and drain code already compiled.
    /// </summary>
    private async Task Rehearse(Child child, BenchPlant stream)
    {
        if (warmup == 0)
        {
            return;
        }

        await new BenchPlant(stream.Assets, warmup, stream.StartUnixMs, stream.StepMs).PublishAsync(port).ConfigureAwait(false);
        await child.Process.StandardInput.WriteLineAsync("rehearse").ConfigureAwait(false);
        await WaitFor(child.Process, "rehearsed").ConfigureAwait(false);
    }

    private static async Task WaitFor(Process process, string signal)
    {
        while (await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(5)).ConfigureAwait(false) is { } line)
        {
            if (line == signal)
            {
                return;
            }
        }

        throw new InvalidOperationException($"consumer exited before it was {signal}");
    }

    private static async Task<ChildResult> Finish(Child child)
    {
        var stdout = await child.Process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await child.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5)).ConfigureAwait(false);
        var stderr = await child.Stderr.ConfigureAwait(false);
        if (child.Process.ExitCode != 0)
        {
            throw new InvalidOperationException($"consumer failed ({child.Process.ExitCode}): {stderr}");
        }

        var time = stderr.Split('\n').LastOrDefault(l => l.StartsWith("time ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("no /usr/bin/time output: " + stderr);
        var peakMb = double.Parse(time.Split(' ')[4], CultureInfo.InvariantCulture) / 1024;
        var fields = new Dictionary<string, double>(StringComparer.Ordinal);
        if (stdout.Split('\n').FirstOrDefault(l => l.StartsWith("result ", StringComparison.Ordinal)) is { } result)
        {
            foreach (var pair in result.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
            {
                var parts = pair.Split('=');
                fields[parts[0]] = double.Parse(parts[1], CultureInfo.InvariantCulture);
            }
        }

        foreach (var line in stderr.Split('\n').Where(l => l.StartsWith("note ", StringComparison.Ordinal)))
        {
            Console.Error.WriteLine(line);
        }

        return new ChildResult(fields, peakMb);
    }

    /// <summary>utime + stime of a process in seconds (clock ticks of 10 ms).</summary>
    private static double ProcessCpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static double PeakRssMb(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    private sealed record Child(Process Process, Task<string> Stderr);

    private sealed record ChildResult(Dictionary<string, double> Fields, double PeakMb)
    {
        public ConsumerRun ToRun(string consumer, string scenario, double publishRate)
        {
            long? Count(string name) => Fields.TryGetValue(name, out var v) ? (long)v : null;
            double? Value(string name) => Fields.TryGetValue(name, out var v) && !double.IsNaN(v) ? v : null;
            return new ConsumerRun(consumer, scenario, Count("messages") ?? 0, Fields["seconds"], Fields["cpu"], PeakMb, publishRate,
                Count("readings"), Count("decisions"), Count("batches"), Count("batch_rows"), Value("p50"), Value("p99"), Count("allocated"), Count("jit_methods"))
            {
                Fields = Fields,
            };
        }
    }
}
