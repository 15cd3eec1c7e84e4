using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Benchmarks.Stream;
using PdM.Edge.Gateway;
using PdM.Edge.Inference;
using PdM.Edge.Ingestion;

namespace PdM.Benchmarks.Ingest;

/// <summary>
/// The two .NET consumers, each run as its own child process of <see cref="DrainHarness"/> so CPU and peak memory are
/// its own. Modes <c>drain</c> (a queued backlog) and <c>live</c> (a paced stream) run in two phases in one process:
/// first a warm-up instance connects (printing <c>ready</c>), consumes the harness's warm-up stream of W messages live
/// and waits until the runtime has stopped compiling (its first seconds recompile hot code with optimisations, and a
/// gateway runs for months), then disconnects, keeping its persistent session, and prints <c>warm</c>; on <c>rehearse</c>
/// from the harness a fresh instance drains a queued warm-up-sized backlog (so a new host's start-up code and the
/// drain's batch-sized paths are compiled too) and it prints <c>rehearsed</c>; on the next line (once the harness has
/// queued the backlog, for a drain) a fresh instance (new feature state, new journal) consumes the measured stream of N
/// messages, timed from its first message to its last, and prints one <c>result</c> line (with the methods the JIT
/// compiled meanwhile). Mode <c>idle</c>: a gateway connected with nothing to do for N seconds.
/// </summary>
internal static class Consumers
{
    public static async Task<int> Run(string kind, string mode, int port, string clientId, int messages, int warmup)
    {
        return kind switch
        {
            "mqttnet" => await BareMqttnet(port, clientId, messages, warmup),
            "gateway" => await Gateway(mode, port, clientId, messages, warmup),
            _ => throw new ArgumentException($"unknown consumer {kind}"),
        };
    }

    private static async Task<int> BareMqttnet(int port, string clientId, int messages, int warmup)
    {
        await ConsumeWithMqttnet(port, clientId, warmup, report: false);
        await WaitForQuietJit();
        await Console.Out.WriteLineAsync("warm");
        if (await Console.In.ReadLineAsync() == "rehearse")
        {
            await ConsumeWithMqttnet(port, clientId, warmup, report: false, announce: false);
            await WaitForQuietJit();
            await Console.Out.WriteLineAsync("rehearsed");
            await Console.In.ReadLineAsync();
        }

        await ConsumeWithMqttnet(port, clientId, messages, report: true);
        return 0;
    }

    private static async Task ConsumeWithMqttnet(int port, string clientId, int messages, bool report, bool announce = true)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var received = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstAt = 0L;
        var cpuAtFirst = TimeSpan.Zero;
        client.ApplicationMessageReceivedAsync += e =>
        {
            if (received == 0)
            {
                firstAt = Stopwatch.GetTimestamp();
                cpuAtFirst = Process.GetCurrentProcess().TotalProcessorTime;
            }

            if (Interlocked.Increment(ref received) == messages)
            {
                done.TrySetResult();
            }

            return Task.CompletedTask;
        };
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(clientId)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithCleanStart(false).WithSessionExpiryInterval(3600).Build());
        await client.SubscribeAsync(BenchPlant.TopicFilter, MqttQualityOfServiceLevel.AtLeastOnce);
        if (!report && announce)
        {
            await Console.Out.WriteLineAsync("ready");
        }

        if (messages > 0)
        {
            await done.Task.WaitAsync(TimeSpan.FromMinutes(4));
        }

        // An unmeasured instance (warm-up, rehearsal) takes what is still queued before it leaves: the messages it
        // received but had not acknowledged when the previous instance left come again (QoS 1), count towards its
        // total, and would otherwise leave as many of its own queued for the measured instance.
        while (!report)
        {
            var before = Volatile.Read(ref received);
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            if (Volatile.Read(ref received) == before)
            {
                break;
            }
        }

        if (report)
        {
            var seconds = Stopwatch.GetElapsedTime(firstAt).TotalSeconds;
            var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtFirst).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result messages={received} seconds={seconds:0.0000} cpu={cpu:0.000}"));
        }

        await client.DisconnectAsync();
    }

    private static async Task<int> Gateway(string mode, int port, string clientId, int messages, int warmup)
    {
        await Console.Error.WriteLineAsync($"note {mode} runtime: {ShippedRuntime.Verify()}");
        var work = Path.Combine(Path.GetTempPath(), $"pdm-bench-gateway-{Environment.ProcessId}");
        try
        {
            if (mode == "idle")
            {
                await using var idle = await StartGateway(port, clientId, Path.Combine(work, "idle"), 0);
                await Console.Out.WriteLineAsync("ready");

                // Idle CPU: connected, model loaded, no traffic; measured after 10 s so start-up work (tiered JIT,
                // first health checks) is not counted as idling.
                await Task.Delay(TimeSpan.FromSeconds(10));
                var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var started = Stopwatch.GetTimestamp();
                await Task.Delay(TimeSpan.FromSeconds(messages));
                var percent = 100 * (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds / Stopwatch.GetElapsedTime(started).TotalSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result messages=0 seconds=0 cpu=0 idle_cpu_pct={percent:0.00}"));
                return 0;
            }

            // Warm-up instance: consumes the warm-up stream live, then leaves its session to the measured instance.
            await using (var warm = await StartGateway(port, clientId, Path.Combine(work, "warm-up"), warmup))
            {
                await Console.Out.WriteLineAsync("ready");
                await warm.Metrics.Done.WaitAsync(TimeSpan.FromMinutes(4));

                await Console.Error.WriteLineAsync($"note warm-up: {warm.Metrics.Result()}");
                await WaitForQuietJit();
            }

            await Console.Out.WriteLineAsync("warm");

            // The harness says when: for a drain once the backlog is queued for our session, for a live run at once.
            // First, if asked, a rehearsal: a fresh instance drains a queued warm-up backlog as the measured one will,
            // so that the code a new host runs at start and the drain's batch-sized paths are compiled (to tier 1)
            // before the measured instance starts. Without it the measured drain recompiled ~3,000 methods (start-up
            // code of its own host crossing the tiering threshold, hot paths first run in large batches): about a
            // third of its CPU was the JIT, which a gateway that has run for an hour no longer pays.
            if (await Console.In.ReadLineAsync() == "rehearse")
            {
                await using (var rehearsal = await StartGateway(port, clientId, Path.Combine(work, "rehearsal"), warmup))
                {
                    await rehearsal.Metrics.Done.WaitAsync(TimeSpan.FromMinutes(4));
                    await Console.Error.WriteLineAsync($"note rehearsal: {rehearsal.Metrics.Result()}");
                }

                await WaitForQuietJit();
                await Console.Out.WriteLineAsync("rehearsed");
                await Console.In.ReadLineAsync();
            }

            await using var measured = await StartGateway(port, clientId, Path.Combine(work, "measured"), messages);
            if (mode == "live")
            {
                await Console.Out.WriteLineAsync("ready");
            }

            await measured.Metrics.Done.WaitAsync(TimeSpan.FromMinutes(4));
            Console.WriteLine(measured.Metrics.Result());
            await Console.Error.WriteLineAsync($"note {mode} threads: {measured.Metrics.Threads()}");
            await Console.Error.WriteLineAsync($"note {mode}: allocated_mb={GC.GetTotalAllocatedBytes() / 1e6:0} gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)}");
            return 0;
        }
        finally
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    /// <summary>Starts a gateway on the bench's broker with the harness's scenario settings and its own journal; returns once it is subscribed.</summary>
    private static async Task<RunningGateway> StartGateway(int port, string clientId, string folder, long messages)
    {
        var metrics = new GatewayMetrics(messages);
        var settings = new List<string>
        {
            "--Urls=http://127.0.0.1:0",
            "--Messaging:Transport=InMemory",
            $"--Gateway:SiteId={BenchPlant.Site}",
            "--Gateway:Mqtt:Host=127.0.0.1",
            $"--Gateway:Mqtt:Port={port}",
            $"--Gateway:Mqtt:ClientId={clientId}",
            "--Gateway:Mqtt:SessionExpirySeconds=3600",
            $"--Gateway:Mqtt:TopicFilters:0={BenchPlant.TopicFilter}",
            "--Gateway:SparkplugHost=false",
            "--Logging:LogLevel:Default=Warning",
            $"--Journal:Path={Path.Combine(folder, "journal.db")}",

            // The stream's device times lie up to two hours back: widen the past-age window.
            "--Ingestion:MaxPastAge=1.00:00:00",
        };

        // The harness passes the scenario (asset model, feature spec, model store) through the environment.
        if (Environment.GetEnvironmentVariable("PDM_BENCH_GATEWAY_ARGS") is { Length: > 0 } extra)
        {
            settings.AddRange(extra.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        var app = GatewayApplication.Build([.. settings], builder => builder.Logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync();
        await metrics.Connected.WaitAsync(TimeSpan.FromSeconds(60));
        return new RunningGateway(app, metrics);
    }

    /// <summary>Waits (at most a minute) until no method has been compiled for a second: tiering and start-up work are done.</summary>
    private static async Task WaitForQuietJit()
    {
        var deadline = Stopwatch.StartNew();
        var last = System.Runtime.JitInfo.GetCompiledMethodCount();
        while (deadline.Elapsed < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now == last)
            {
                return;
            }

            last = now;
        }

        await Console.Error.WriteLineAsync($"note the JIT was still compiling after a minute ({last} methods)");
    }

    private sealed class RunningGateway(WebApplication app, GatewayMetrics metrics) : IAsyncDisposable
    {
        public GatewayMetrics Metrics { get; } = metrics;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Metrics.Dispose();
        }
    }

    /// <summary>
    /// The gateway's own metrics, as an exporter would see them: messages processed (the clock runs from the first to
    /// the last), readings accepted, decisions made, rows per ONNX Runtime call, and receipt-to-decision latency; and the
    /// bytes the process allocated (every thread) over the same first-to-last span.
    /// </summary>
    private sealed class GatewayMetrics : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly double[] _latencies;
        private readonly long[] _decidedAt;
        private readonly long _messages;
        private long _processed;
        private long _readings;
        private long _decisions;
        private long _journaled;
        private long _commits;
        private long _batches;
        private long _batchRows;
        private int _latencyCount;
        private long _firstAt;
        private TimeSpan _cpuAtFirst;
        private long _allocatedAtFirst;
        private double _seconds;
        private double _cpu;
        private long _allocated;
        private long _jitMethodsAtFirst;
        private TimeSpan _jitTimeAtFirst;
        private long _jitMethods;
        private double _jitSeconds;
        private TimeSpan _gcPauseAtFirst;
        private readonly int[] _gcCountsAtFirst = new int[3];
        private string _stalls = string.Empty;
        private Dictionary<string, (string Name, long RunNs, long WaitNs)> _threadsAtFirst = [];
        private Dictionary<string, (string Name, long RunNs, long WaitNs)> _threads = [];

        /// <summary>
        /// The measured span's CPU and run-queue wait by thread name (numbers folded, so a pool's threads add up), the
        /// six that waited longest: which threads were runnable and waiting for a core when the tail grew.
        /// </summary>
        public string Threads() => string.Join(' ', _threads
            .Select(t => (t.Value.Name, Run: t.Value.RunNs - (_threadsAtFirst.TryGetValue(t.Key, out var f) ? f.RunNs : 0), Wait: t.Value.WaitNs - (_threadsAtFirst.TryGetValue(t.Key, out var g) ? g.WaitNs : 0)))
            .GroupBy(t => t.Name)
            .Select(g => (g.Key, Count: g.Count(), Run: g.Sum(t => t.Run) / 1e6, Wait: g.Sum(t => t.Wait) / 1e6))
            .OrderByDescending(g => g.Wait)
            .Take(6)
            .Select(g => string.Create(CultureInfo.InvariantCulture, $"[{g.Key}]x{g.Count}:cpu_ms={g.Run:0}/wait_ms={g.Wait:0}")));

        public GatewayMetrics(long messages)
        {
            _messages = messages;
            _latencies = new double[Math.Max(messages, 1)];
            _decidedAt = new long[_latencies.Length];
            if (messages == 0)
            {
                _done.TrySetResult();
            }

            _listener.InstrumentPublished = (instrument, l) =>
            {
                if ((instrument.Meter.Name == GatewayTelemetry.Name && instrument.Name is "pdm.ingest.processed" or "pdm.mqtt.connections" or "pdm.decision.latency")
                    || (instrument.Meter.Name == IngestionTelemetry.MeterName && instrument.Name == "pdm.ingest.accepted")
                    || (instrument.Meter.Name == InferenceTelemetry.MeterName && instrument.Name is "pdm.decisions" or "pdm.inference.batch.size")
                    || (instrument.Meter.Name == PdM.Edge.Journal.JournalTelemetry.MeterName && instrument.Name is "pdm.journal.appended" or "pdm.journal.commits"))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => OnCount(instrument, value));
            _listener.SetMeasurementEventCallback<int>((_, value, _, _) =>
            {
                Interlocked.Increment(ref _batches);
                Interlocked.Add(ref _batchRows, value);
            });
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
            {
                var index = Interlocked.Increment(ref _latencyCount) - 1;
                if (index < _latencies.Length)
                {
                    _latencies[index] = value;
                    _decidedAt[index] = Stopwatch.GetTimestamp();
                }
            });
            _listener.Start();
        }

        public Task Connected => _connected.Task;

        /// <summary>Completes once the expected messages have been processed; timing runs from the first to that one.</summary>
        public Task Done => _done.Task;

        public string Result()
        {
            var count = Math.Min(_latencyCount, _latencies.Length);
            var stalls = Stalls(count);
            Array.Sort(_latencies, 0, count);
            var p50 = count > 0 ? _latencies[count / 2] : double.NaN;
            var p99 = count > 0 ? _latencies[Math.Min(count - 1, (int)Math.Ceiling(count * 0.99) - 1)] : double.NaN;
            return string.Create(CultureInfo.InvariantCulture,
                $"result messages={Interlocked.Read(ref _processed)} seconds={_seconds:0.0000} cpu={_cpu:0.000} readings={Interlocked.Read(ref _readings)} decisions={Interlocked.Read(ref _decisions)} journaled={Interlocked.Read(ref _journaled)} commits={Interlocked.Read(ref _commits)} batches={Interlocked.Read(ref _batches)} batch_rows={Interlocked.Read(ref _batchRows)} p50={p50:0.00} p99={p99:0.00} allocated={_allocated} jit_methods={_jitMethods} jit_s={_jitSeconds:0.000}{stalls}{_stalls}");
        }

        /// <summary>
        /// Where the latency tail comes from: decisions slower than <see cref="SlowMs"/> grouped into bursts (a burst ends
        /// after 100 ms without one), with the slowest; set against the GC's pauses and the time the process's threads
        /// spent runnable but waiting for a core (/proc/self/task/*/schedstat) over the same first-to-last span.
        /// </summary>
        private string Stalls(int count)
        {
            var slow = 0;
            var bursts = 0;
            var max = 0.0;
            var lastSlow = long.MinValue;
            var gap = Stopwatch.Frequency / 10;
            for (var i = 0; i < count; i++)
            {
                max = Math.Max(max, _latencies[i]);
                if (_latencies[i] <= SlowMs)
                {
                    continue;
                }

                slow++;
                if (lastSlow == long.MinValue || _decidedAt[i] - lastSlow > gap)
                {
                    bursts++;
                }

                lastSlow = _decidedAt[i];
            }

            return string.Create(CultureInfo.InvariantCulture, $" slow={slow} slow_bursts={bursts} max_ms={max:0.0}");
        }

        private const double SlowMs = 20;

        /// <summary>Nanoseconds the threads of a snapshot had spent runnable, waiting for a core (the second schedstat field).</summary>
        private static long RunQueueWaitNanoseconds(Dictionary<string, (string Name, long RunNs, long WaitNs)> threads) => threads.Values.Sum(t => t.WaitNs);

        public void Dispose() => _listener.Dispose();

        private void OnCount(Instrument instrument, long value)
        {
            switch (instrument.Name)
            {
                case "pdm.mqtt.connections":
                    _connected.TrySetResult();
                    return;
                case "pdm.ingest.accepted":
                    Interlocked.Add(ref _readings, value);
                    return;
                case "pdm.decisions":
                    Interlocked.Add(ref _decisions, value);
                    return;
                case "pdm.journal.appended":
                    Interlocked.Add(ref _journaled, value);
                    return;
                case "pdm.journal.commits":
                    Interlocked.Add(ref _commits, value);
                    return;
            }

            if (Interlocked.Read(ref _processed) == 0)
            {
                _firstAt = Stopwatch.GetTimestamp();
                _cpuAtFirst = Process.GetCurrentProcess().TotalProcessorTime;
                _allocatedAtFirst = GC.GetTotalAllocatedBytes();
                _jitMethodsAtFirst = System.Runtime.JitInfo.GetCompiledMethodCount();
                _jitTimeAtFirst = System.Runtime.JitInfo.GetCompilationTime();
                _gcPauseAtFirst = GC.GetTotalPauseDuration();
                for (var generation = 0; generation < 3; generation++)
                {
                    _gcCountsAtFirst[generation] = GC.CollectionCount(generation);
                }

                _threadsAtFirst = ThreadSchedule.Read();
            }

            if (Interlocked.Add(ref _processed, value) == _messages)
            {
                _seconds = Stopwatch.GetElapsedTime(_firstAt).TotalSeconds;
                _cpu = (Process.GetCurrentProcess().TotalProcessorTime - _cpuAtFirst).TotalSeconds;
                _allocated = GC.GetTotalAllocatedBytes() - _allocatedAtFirst;
                _jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount() - _jitMethodsAtFirst;
                _jitSeconds = (System.Runtime.JitInfo.GetCompilationTime() - _jitTimeAtFirst).TotalSeconds;
                _threads = ThreadSchedule.Read();
                _stalls = string.Create(CultureInfo.InvariantCulture,
                    $" gc_server={(System.Runtime.GCSettings.IsServerGC ? 1 : 0)} gc_pause_ms={(GC.GetTotalPauseDuration() - _gcPauseAtFirst).TotalMilliseconds:0.0} gc0={GC.CollectionCount(0) - _gcCountsAtFirst[0]} gc1={GC.CollectionCount(1) - _gcCountsAtFirst[1]} gc2={GC.CollectionCount(2) - _gcCountsAtFirst[2]} runq_wait_ms={(RunQueueWaitNanoseconds(_threads) - RunQueueWaitNanoseconds(_threadsAtFirst)) / 1e6:0.0}");
                _done.TrySetResult();
            }
        }
    }
}

/// <summary>Each thread of this process: its name (digits folded) and the nanoseconds it ran and waited runnable (/proc/self/task/*/schedstat).</summary>
internal static class ThreadSchedule
{
    public static Dictionary<string, (string Name, long RunNs, long WaitNs)> Read()
    {
        var threads = new Dictionary<string, (string, long, long)>(StringComparer.Ordinal);
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var fields = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                var name = new string(File.ReadAllText(Path.Combine(task, "comm")).Trim().Where(c => !char.IsAsciiDigit(c)).ToArray()).Trim();
                threads[Path.GetFileName(task)] = (name, long.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
                // The thread ended between listing and reading.
            }
        }

        return threads;
    }
}
