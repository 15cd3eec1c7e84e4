using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Edge.Gateway;

namespace PdM.Benchmarks.Ingest;

/// <summary>
/// The two .NET consumers, each run as its own child process so CPU and peak memory are its own. Modes: <c>prime</c>
/// (create the persistent session and leave), <c>drain</c> (consume the queued backlog of N messages), <c>live</c>
/// (consume N messages published at a steady rate and report latency). Each prints one result line.
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
        var latencies = new List<double>(mode == "live" ? messages : 0);
        var firstAt = 0L;
        var cpuAtFirst = TimeSpan.Zero;
        client.ApplicationMessageReceivedAsync += e =>
        {
            if (received == 0)
            {
                firstAt = Stopwatch.GetTimestamp();
                cpuAtFirst = Process.GetCurrentProcess().TotalProcessorTime;
            }

            if (mode == "live")
            {
                latencies.Add(LatencyMs(e.ApplicationMessage.Payload.FirstSpan));
            }

            if (++received == messages)
            {
                done.TrySetResult();
            }

            return Task.CompletedTask;
        };
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(clientId)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithCleanStart(false).WithSessionExpiryInterval(3600).Build());
        await client.SubscribeAsync(BenchStream.Topic, MqttQualityOfServiceLevel.AtLeastOnce);
        if (mode == "prime")
        {
            await client.DisconnectAsync();
            return 0;
        }

        await Console.Out.WriteLineAsync("ready");
        await done.Task;
        Report(firstAt, cpuAtFirst, received, latencies);
        await client.DisconnectAsync();
        return 0;
    }

    private static async Task<int> Gateway(string mode, int port, string clientId, int messages)
    {
        var processed = 0L;
        var predictions = 0L;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var latencies = new List<double>(mode == "live" ? messages : 0);
        var firstAt = 0L;
        var cpuAtFirst = TimeSpan.Zero;
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GatewayTelemetry.Name && instrument.Name is "pdm.ingest.processed" or "pdm.ingest.reading_age" or "pdm.mqtt.connections" or "pdm.decisions")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "pdm.mqtt.connections")
            {
                connected.TrySetResult();
                return;
            }

            if (instrument.Name == "pdm.decisions")
            {
                Interlocked.Add(ref predictions, value);
                return;
            }

            if (processed == 0)
            {
                firstAt = Stopwatch.GetTimestamp();
                cpuAtFirst = Process.GetCurrentProcess().TotalProcessorTime;
            }

            if (Interlocked.Add(ref processed, value) >= messages)
            {
                done.TrySetResult();
            }
        });
        listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            if (mode == "live")
            {
                lock (latencies)
                {
                    latencies.Add(value);
                }
            }
        });
        listener.Start();

        var settings = new List<string>
        {
            "--Urls=http://127.0.0.1:0",
            "--Messaging:Transport=InMemory",
            $"--Gateway:SiteId={BenchStream.Site}",
            "--Gateway:Mqtt:Host=127.0.0.1",
            $"--Gateway:Mqtt:Port={port}",
            $"--Gateway:Mqtt:ClientId={clientId}",
            "--Gateway:Mqtt:SessionExpirySeconds=3600",
            $"--Gateway:Mqtt:TopicFilters:0={BenchStream.Topic}",
            "--Gateway:SparkplugHost=false",
            "--Logging:LogLevel:Default=Warning",
            $"--AssetModel:Assets:0:Id={BenchStream.Asset}",
            "--AssetModel:Assets:0:AssetClass=centrifugal-pump",
        };
        for (var i = 0; i < BenchStream.Sensors.Length; i++)
        {
            settings.Add($"--AssetModel:Assets:0:Sensors:{i}:Id={BenchStream.Sensors[i]}");
            settings.Add($"--AssetModel:Assets:0:Sensors:{i}:Unit=u");
            settings.Add($"--AssetModel:Assets:0:Sensors:{i}:ValidMin=-1000");
            settings.Add($"--AssetModel:Assets:0:Sensors:{i}:ValidMax=100000");
        }

        // A backlog replayed from the broker carries old device times: widen the skew window for the drain.
        settings.Add("--Ingestion:MaxPastAge=1.00:00:00");

        // bench-inference runs this same consumer with a model deployed: its settings come through the environment.
        if (Environment.GetEnvironmentVariable("PDM_BENCH_GATEWAY_ARGS") is { Length: > 0 } extra)
        {
            settings.AddRange(extra.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        var app = GatewayApplication.Build([.. settings], builder => builder.Logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync();
        await connected.Task.WaitAsync(TimeSpan.FromSeconds(30));
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
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"idle cpu_pct={percent:0.00}"));
            await app.StopAsync();
            return 0;
        }

        await done.Task;
        lock (latencies)
        {
            Report(firstAt, cpuAtFirst, processed, latencies);
        }

        // Each prediction is a journal append (fsynced) before its message is acknowledged: worth knowing when a run is slow.
        await Console.Error.WriteLineAsync($"gateway predictions={Interlocked.Read(ref predictions)} allocated_mb={GC.GetTotalAllocatedBytes() / 1e6:0} gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)}");

        await app.StopAsync();
        return 0;
    }

    private static double LatencyMs(ReadOnlySpan<byte> payload)
    {
        var text = Encoding.UTF8.GetString(payload);
        var start = text.IndexOf("\"deviceTime\":\"", StringComparison.Ordinal) + 14;
        var sent = DateTimeOffset.Parse(text.AsSpan(start, 24), CultureInfo.InvariantCulture);
        return (DateTimeOffset.UtcNow - sent).TotalMilliseconds;
    }

    private static void Report(long firstAt, TimeSpan cpuAtFirst, long messages, List<double> latencies)
    {
        var seconds = Stopwatch.GetElapsedTime(firstAt).TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtFirst).TotalSeconds;
        latencies.Sort();
        var p50 = latencies.Count > 0 ? latencies[latencies.Count / 2] : double.NaN;
        var p99 = latencies.Count > 0 ? latencies[Math.Min(latencies.Count - 1, (int)(latencies.Count * 0.99))] : double.NaN;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result messages={messages} seconds={seconds:0.000} cpu={cpu:0.000} p50={p50:0.00} p99={p99:0.00}"));
    }
}
