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
/// its own. Modes: <c>prime</c> (create the persistent session and leave), <c>drain</c> (consume a queued backlog of N
/// messages), <c>live</c> (consume N messages published at a paced rate), <c>idle</c> (gateway only: connected with
/// nothing to do for N seconds). Each prints one <c>result</c> line, timed from its first message to its last.
/// </summary>
internal static class Consumers
{
    public static async Task<int> Run(string kind, string mode, int port, string clientId, int messages)
    {
        return kind switch
        {
            "mqttnet" => await BareMqttnet(mode, port, clientId, messages),
            "gateway" => await Gateway(mode, port, clientId, messages),
            _ => throw new ArgumentException($"unknown consumer {kind}"),
        };
    }

    private static async Task<int> BareMqttnet(string mode, int port, string clientId, int messages)
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

            if (++received == messages)
            {
                done.TrySetResult();
            }

            return Task.CompletedTask;
        };
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(clientId)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithCleanStart(false).WithSessionExpiryInterval(3600).Build());
        await client.SubscribeAsync(BenchPlant.TopicFilter, MqttQualityOfServiceLevel.AtLeastOnce);
        if (mode == "prime")
        {
            await client.DisconnectAsync();
            return 0;
        }

        await Console.Out.WriteLineAsync("ready");
        await done.Task;
        var seconds = Stopwatch.GetElapsedTime(firstAt).TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtFirst).TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result messages={received} seconds={seconds:0.000} cpu={cpu:0.000}"));
        await client.DisconnectAsync();
        return 0;
    }

    private static async Task<int> Gateway(string mode, int port, string clientId, int messages)
    {
        using var metrics = new GatewayMetrics(messages);
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
        await metrics.Connected.WaitAsync(TimeSpan.FromSeconds(30));
        if (mode == "prime")
        {
            await app.StopAsync();
            return 0;
        }

        await Console.Out.WriteLineAsync("ready");
        if (mode == "idle")
        {
            // Idle CPU: connected, model loaded, no traffic; measured after 10 s so start-up work (tiered JIT,
            // first health checks) is not counted as idling.
            await Task.Delay(TimeSpan.FromSeconds(10));
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var started = Stopwatch.GetTimestamp();
            await Task.Delay(TimeSpan.FromSeconds(messages));
            var percent = 100 * (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds / Stopwatch.GetElapsedTime(started).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result messages=0 seconds=0 cpu=0 idle_cpu_pct={percent:0.00}"));
            await app.StopAsync();
            return 0;
        }

        await metrics.Done.WaitAsync(TimeSpan.FromMinutes(4));
        Console.WriteLine(metrics.Result());
        await Console.Error.WriteLineAsync($"note {mode}: allocated_mb={GC.GetTotalAllocatedBytes() / 1e6:0} gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)}");
        await app.StopAsync();
        return 0;
    }

    /// <summary>
    /// The gateway's own metrics, as an exporter would see them: messages processed (the clock runs from the first to
    /// the last), readings accepted, decisions made, rows per ONNX Runtime call, and receipt-to-decision latency.
    /// </summary>
    private sealed class GatewayMetrics : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly double[] _latencies;
        private readonly int _messages;
        private long _processed;
        private long _readings;
        private long _decisions;
        private long _batches;
        private long _batchRows;
        private int _latencyCount;
        private long _firstAt;
        private TimeSpan _cpuAtFirst;
        private double _seconds;
        private double _cpu;

        public GatewayMetrics(int messages)
        {
            _messages = messages;
            _latencies = new double[Math.Max(messages, 1)];
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if ((instrument.Meter.Name == GatewayTelemetry.Name && instrument.Name is "pdm.ingest.processed" or "pdm.mqtt.connections" or "pdm.decision.latency")
                    || (instrument.Meter.Name == IngestionTelemetry.MeterName && instrument.Name == "pdm.ingest.accepted")
                    || (instrument.Meter.Name == InferenceTelemetry.MeterName && instrument.Name is "pdm.decisions" or "pdm.inference.batch.size"))
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
                }
            });
            _listener.Start();
        }

        public Task Connected => _connected.Task;

        public Task Done => _done.Task;

        public string Result()
        {
            var count = Math.Min(_latencyCount, _latencies.Length);
            Array.Sort(_latencies, 0, count);
            var p50 = count > 0 ? _latencies[count / 2] : double.NaN;
            var p99 = count > 0 ? _latencies[Math.Min(count - 1, (int)Math.Ceiling(count * 0.99) - 1)] : double.NaN;
            return string.Create(CultureInfo.InvariantCulture,
                $"result messages={Interlocked.Read(ref _processed)} seconds={_seconds:0.0000} cpu={_cpu:0.000} readings={Interlocked.Read(ref _readings)} decisions={Interlocked.Read(ref _decisions)} batches={Interlocked.Read(ref _batches)} batch_rows={Interlocked.Read(ref _batchRows)} p50={p50:0.00} p99={p99:0.00}");
        }

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
            }

            if (Interlocked.Read(ref _processed) == 0)
            {
                _firstAt = Stopwatch.GetTimestamp();
                _cpuAtFirst = Process.GetCurrentProcess().TotalProcessorTime;
            }

            if (Interlocked.Add(ref _processed, value) == _messages)
            {
                _seconds = Stopwatch.GetElapsedTime(_firstAt).TotalSeconds;
                _cpu = (Process.GetCurrentProcess().TotalProcessorTime - _cpuAtFirst).TotalSeconds;
                _done.TrySetResult();
            }
        }
    }
}
