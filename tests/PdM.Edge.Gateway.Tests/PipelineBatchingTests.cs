using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdM.Edge.Gateway.Mqtt;
using PdM.Edge.Gateway.Pipeline;
using PdM.Edge.Inference;
using PdM.Edge.Ingestion;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// Cross-asset micro-batching in the gateway's pipeline (GatewayApplication as Program.cs runs it, a model in its store,
/// the real Mosquitto): a burst of messages already waiting when the pipeline starts closes windows of many assets, and
/// those windows are scored together, in far fewer ONNX Runtime calls than windows, while every asset's windows are
/// decided in the order of its readings and the messages are acknowledged in arrival order.
/// </summary>
public sealed class PipelineBatchingTests
{
    private const string AssetClass = "milling-machine";
    private const int Assets = 8;
    private const int MessagesPerAsset = 20;

    // A count window of 2 readings, hop 1: a window per message once an asset has three (the last tick is never final).
    private const int WindowsPerAsset = MessagesPerAsset - 2;

    [Fact]
    public async Task A_burst_across_assets_is_scored_in_shared_model_runs_in_each_assets_reading_order()
    {
        var site = LocalDependencies.UniqueName("batch").Replace('_', '-');
        var work = Path.Combine(Path.GetTempPath(), "pdm-tests", site);
        var store = Path.Combine(work, "store");
        var installed = new LocalModelStore(store).Install(Path.Combine(LocalDependencies.RepositoryRoot, "tests", "models", "generated", "logreg_failure"));
        Assert.NotNull(installed.Package);
        var spec = await MillFeatureSpecs.WriteTwoReadingMeans(work);

        var decided = new DecisionLines();
        var app = GatewayApplication.Build([.. Settings(site, work, store, spec)], builder =>
        {
            builder.Logging.AddProvider(decided);
            builder.Logging.AddFilter<DecisionLines>(typeof(DecisionStage).FullName, LogLevel.Debug);
        });
        using var inference = new MetricRecorder(app.Services.GetRequiredService<IMeterFactory>(), InferenceTelemetry.MeterName, GatewayTelemetry.Name);

        // The burst is waiting in the channel before the pipeline starts, as a backlog is after a reconnect.
        var acknowledged = new ConcurrentQueue<int>();
        var channel = app.Services.GetRequiredService<IngestChannel>();
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        var total = Assets * MessagesPerAsset;
        for (var i = 0; i < total; i++)
        {
            var index = i;
            var (asset, k) = (i % Assets, i / Assets);
            var payload = Payload(asset, start.AddMilliseconds(k * 100), k);
            var buffer = ArrayPool<byte>.Shared.Rent(payload.Length);
            payload.CopyTo(buffer, 0);
            var message = new InboundMessage($"pdm/{site}/{AssetId(asset)}/telemetry", buffer, payload.Length, DateTimeOffset.UtcNow, default,
                _ =>
                {
                    acknowledged.Enqueue(index);
                    return Task.CompletedTask;
                });
            Assert.True(channel.Writer.TryWrite(message));
        }

        await app.StartAsync();
        try
        {
            await Eventually.Until(() => Task.FromResult(acknowledged.Count), n => n >= total, TimeSpan.FromSeconds(60), "the burst acknowledged");

            // Acknowledged in arrival order, each once.
            Assert.Equal(Enumerable.Range(0, total), acknowledged);

            // Every window the model's: decided per asset in the order of its readings, none lost, none twice.
            var lines = decided.Parse();
            Assert.All(lines, line => Assert.Equal("Model", line.Path));
            for (var asset = 0; asset < Assets; asset++)
            {
                var ends = lines.Where(l => l.AssetId == AssetId(asset)).Select(l => l.WindowEnd).ToList();
                Assert.Equal(WindowsPerAsset, ends.Count);
                Assert.Equal(ends.Order(), ends);
                Assert.Equal(ends.Count, ends.Distinct().Count());
            }

            // Scored together: far fewer ONNX Runtime runs than windows, by the gateway's own batch-size histogram and by
            // the batch each decision names; windows of different assets share a run.
            var windows = Assets * WindowsPerAsset;
            var runs = inference.Count("pdm.inference.batch.size");
            Assert.Equal(windows, inference.Total("pdm.inference.batch.size"));
            Assert.InRange(runs, 1, windows / 4);
            Assert.True((double)windows / runs >= 4, $"mean batch {(double)windows / runs:0.0} over {runs} runs");
            Assert.Contains(lines.GroupBy(l => l.BatchId), batch => batch.Select(l => l.AssetId).Distinct().Count() == Assets);
            Assert.Equal(total, inference.Total("pdm.ingest.processed"));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_lone_message_is_decided_without_waiting_for_company()
    {
        var site = LocalDependencies.UniqueName("lone").Replace('_', '-');
        var work = Path.Combine(Path.GetTempPath(), "pdm-tests", site);
        var decided = new DecisionLines();
        var app = GatewayApplication.Build([.. Settings(site, work, store: null, TestFeatureSpecs.PerReading())], builder =>
        {
            builder.Logging.AddProvider(decided);
            builder.Logging.AddFilter<DecisionLines>(typeof(DecisionStage).FullName, LogLevel.Debug);
        });
        using var metrics = new MetricRecorder(app.Services.GetRequiredService<IMeterFactory>(), GatewayTelemetry.Name);
        await app.StartAsync();
        try
        {
            await Eventually.Until(() => Task.FromResult(metrics.Total("pdm.mqtt.connections")), n => n > 0, TimeSpan.FromSeconds(30), "gateway MQTT connection");

            // Two readings of one asset, published apart: the second closes the first's window, alone in the channel.
            using var device = await GatewayUnderTest.ConnectClient($"dev-{site}", LocalDependencies.MqttPort);
            var start = DateTimeOffset.UtcNow.AddMinutes(-1);
            foreach (var k in new[] { 0, 1 })
            {
                await device.PublishAsync(new MQTTnet.MqttApplicationMessageBuilder()
                    .WithTopic($"pdm/{site}/{AssetId(0)}/telemetry")
                    .WithPayload(Payload(0, start.AddSeconds(k), k))
                    .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce)
                    .Build());
            }

            // No timer and no batch to fill: with nothing else ever arriving, the window is still decided, alone.
            await Eventually.Until(() => Task.FromResult(decided.Parse().Count), n => n >= 1, TimeSpan.FromSeconds(30), "the lone window decided");
            await Eventually.Until(() => Task.FromResult(metrics.Total("pdm.ingest.processed")), n => n >= 2, TimeSpan.FromSeconds(30), "both messages processed");
            var line = Assert.Single(decided.Parse());
            Assert.Equal(AssetId(0), line.AssetId);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static string AssetId(int asset) => "MILL-" + asset.ToString(CultureInfo.InvariantCulture);

    private static IEnumerable<string> Settings(string site, string work, string? store, string spec)
    {
        yield return "--Urls=http://127.0.0.1:0";
        yield return "--Messaging:Transport=InMemory";
        yield return $"--Gateway:SiteId={site}";
        yield return $"--Gateway:Mqtt:Host={LocalDependencies.MqttHost}";
        yield return $"--Gateway:Mqtt:Port={LocalDependencies.MqttPort}";
        yield return $"--Gateway:Mqtt:ClientId=gw-{site}";
        yield return $"--Gateway:Mqtt:TopicFilters:0=pdm/{site}/+/telemetry";
        yield return "--Gateway:SparkplugHost=false";
        yield return $"--Gateway:FeatureSpecPath={spec}";
        yield return $"--Journal:Path={Path.Combine(work, "journal.db")}";
        yield return "--Ingestion:MaxPastAge=1.00:00:00";
        if (store is not null)
        {
            yield return $"--Inference:ModelStorePath={store}";
        }

        string[] sensors = ["air_temperature_k", "process_temperature_k", "rotational_speed_rpm", "torque_nm", "tool_wear_min",
            "vibration_rms_mm_s", "bearing_temperature_c"];
        for (var a = 0; a < Assets; a++)
        {
            yield return $"--AssetModel:Assets:{a}:Id={AssetId(a)}";
            yield return $"--AssetModel:Assets:{a}:AssetClass={AssetClass}";
            for (var s = 0; s < sensors.Length; s++)
            {
                yield return $"--AssetModel:Assets:{a}:Sensors:{s}:Id={sensors[s]}";
                yield return $"--AssetModel:Assets:{a}:Sensors:{s}:Unit=1";
                yield return $"--AssetModel:Assets:{a}:Sensors:{s}:ValidMin=-1000";
                yield return $"--AssetModel:Assets:{a}:Sensors:{s}:ValidMax=100000";
            }
        }
    }

    /// <summary>An AI4I-like healthy reading set (and the pump signals the per-reading spec reads).</summary>
    private static byte[] Payload(int asset, DateTimeOffset deviceTime, int k) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $"{{\"schemaVersion\":1,\"asset\":\"{AssetId(asset)}\",\"deviceTime\":\"{deviceTime:yyyy-MM-ddTHH:mm:ss.fffZ}\",\"readings\":{{"
        + $"\"air_temperature_k\":{298 + (asset * 0.1)},\"process_temperature_k\":{308 + (k * 0.01)},\"rotational_speed_rpm\":{1500 + k},"
        + $"\"torque_nm\":40,\"tool_wear_min\":{k},\"vibration_rms_mm_s\":2,\"bearing_temperature_c\":50}}}}"));

    /// <summary>The decision stage's Debug line per decision, parsed: asset, window end, path and model batch.</summary>
    private sealed class DecisionLines : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public List<(string AssetId, DateTimeOffset WindowEnd, string Path, string BatchId)> Parse() =>
        [
            .. _lines.Select(line =>
            {
                // "Decided {AssetId} window ending {WindowEnd:O} by {Path} in model batch {BatchId}"
                var parts = line.Split(' ');
                return (parts[1], DateTimeOffset.Parse(parts[4], CultureInfo.InvariantCulture), parts[6], parts.Length > 10 ? parts[10] : "");
            }),
        ];

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName == typeof(DecisionStage).FullName ? _lines : null);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string>? lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => lines is not null && logLevel == LogLevel.Debug;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (lines is not null && eventId.Id == 1111)
                {
                    lines.Enqueue(formatter(state, exception));
                }
            }
        }
    }
}
