using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Contracts.Decisions;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway.Mqtt;
using PdM.Edge.Gateway.Pipeline;
using PdM.Rules;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// One poisoned message cannot stop the gateway (issue #16 item 4), on the real Mosquitto and RabbitMQ: a decoder that
/// throws on one message, a journal append that throws on one event (as a serialization bug would; a storage failure is
/// retried instead), a feature computation that throws on one message of one asset and a rule that throws on one
/// window of another asset each poison only the message concerned. The gateway stays up, every other asset (and every
/// other message of those assets) is still decided, each poisoned message is dead-lettered with its stage and exception
/// type, counted, and acknowledged: the gateway started again on the same MQTT session is not handed it back.
/// </summary>
public sealed class PipelineIsolationTests
{
    private const double FeatureBomb = 6.5;

    [Fact]
    public async Task A_throwing_feature_and_a_throwing_rule_poison_only_their_message_and_it_is_not_redelivered_after_a_restart()
    {
        var site = LocalDependencies.UniqueName("poison").Replace('_', '-');
        var settings = Settings(site);

        // Dead letters as an operator's subscriber sees them, on the real broker.
        var deadLetters = new ConcurrentQueue<JsonDocument>();
        using var watcher = await WatchDeadLettersAsync(site, deadLetters);

        var gateway = await GatewayUnderTest.StartAsync(site, settings, builder =>
            builder.Services.AddSingleton<IRulesEvaluator>(sp => new RuleThatThrowsFor("P1", 8.0, sp.GetRequiredService<RulesEvaluator>())));
        var lifetime = gateway.Services.GetRequiredService<IHostApplicationLifetime>();
        gateway.Services.GetRequiredService<FeatureStage>().BeforeAdd = reading =>
        {
            if (reading.AssetId == "P2" && reading.Value == FeatureBomb)
            {
                throw new ArithmeticException("feature function failed on " + reading.Value.ToString(CultureInfo.InvariantCulture));
            }
        };

        // Per asset, readings in turn (so the assets' messages share the pipeline's batches). P0 is healthy code; P1's
        // 8.0 window makes the rule throw (blaming the message that closes it, the next one); P2's 6.5 reading makes
        // the feature computation throw. Each asset raises a prediction on its 8.0 window unless that window was lost.
        double[][] series = [[2.0, 8.0, 2.0, 2.0], [2.0, 8.0, 2.0, 2.0], [2.0, FeatureBomb, 8.0, 2.0, 2.0]];
        using var device = await GatewayUnderTest.ConnectClient($"dev-{site}", LocalDependencies.MqttPort);
        var published = await PublishInTurnsAsync(device, site, series);

        try
        {
            await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.ingest.processed")), n => n >= published, TimeSpan.FromSeconds(60),
                "every message processed and acknowledged");

            // The host is up, and the assets without a fault and the one whose feature failed on another message decided.
            Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the gateway kept running");
            await Eventually.Until(() => Task.FromResult(gateway.Events.OfType<FailurePredicted>().Select(p => p.AssetId).Order().ToList()),
                assets => assets.SequenceEqual(["P0", "P2"]), TimeSpan.FromSeconds(60), "the predictions of P0 and P2 delivered");
            var board = gateway.Services.GetRequiredService<DecisionBoard>();
            Assert.True(board.TryGet("P1", out _), "P1's windows other than the poisoned one were decided");

            // Each poisoned message counted once by stage and exception type, and dead-lettered with them.
            Assert.Equal(1, gateway.Metrics.Total("pdm.pipeline.poisoned", "stage", "features"));
            Assert.Equal(1, gateway.Metrics.Total("pdm.pipeline.poisoned", "stage", "decide"));
            Assert.Equal(1, gateway.Metrics.Total("pdm.pipeline.poisoned", "exception", nameof(ArithmeticException)));
            Assert.Equal(1, gateway.Metrics.Total("pdm.pipeline.poisoned", "exception", nameof(InvalidOperationException)));
            Assert.Equal(2, gateway.Metrics.Total("pdm.ingest.rejected", "reason", "poisoned"));
            var letters = await Eventually.Until(() => Task.FromResult(deadLetters.Where(d => d.RootElement.GetProperty("reason").GetString() == "poisoned").ToList()),
                found => found.Count >= 2, TimeSpan.FromSeconds(30), "both poisoned messages dead-lettered");
            var feature = Assert.Single(letters, d => d.RootElement.GetProperty("asset").GetString() == "P2");
            Assert.StartsWith("features: System.ArithmeticException: feature function failed on 6.5", feature.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains("\"vibration_rms_mm_s\":6.5", feature.RootElement.GetProperty("payloadUtf8").GetString(), StringComparison.Ordinal);
            var rule = Assert.Single(letters, d => d.RootElement.GetProperty("asset").GetString() == "P1");
            Assert.StartsWith("decide: System.InvalidOperationException: rule failed", rule.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        await AssertNothingRedeliveredAfterRestartAsync(site, settings, device);
    }

    [Fact]
    public async Task A_throwing_decoder_and_a_throwing_journal_append_poison_only_their_message_a_throwing_feature_batch_is_dropped_and_nothing_is_redelivered_after_a_restart()
    {
        var site = LocalDependencies.UniqueName("poison-dj").Replace('_', '-');
        var settings = Settings(site);

        var deadLetters = new ConcurrentQueue<JsonDocument>();
        using var watcher = await WatchDeadLettersAsync(site, deadLetters);

        // Feature upload on, a batch per closed window: the first batch's journal append throws too.
        List<string> withUploads = [.. settings, "--Gateway:FeatureUpload:Enabled=true", "--Gateway:FeatureUpload:MaxRows=1"];
        var gateway = await GatewayUnderTest.StartAsync(site, withUploads);
        var lifetime = gateway.Services.GetRequiredService<IHostApplicationLifetime>();

        // P0's 6.5 message makes decoding throw, as a decoder bug would (the ingestor never throws on bad input).
        var decodeBomb = Encoding.UTF8.GetBytes("\"vibration_rms_mm_s\":6.5");
        gateway.Services.GetServices<IHostedService>().OfType<TelemetryPipeline>().Single().BeforeDecode = message =>
        {
            if (message.Topic == TelemetryTopics.Telemetry(site, "P0") && message.Payload.Span.IndexOf(decodeBomb) >= 0)
            {
                throw new InvalidDataException("decoder failed on 6.5");
            }
        };

        // P1's first prediction makes its journal append throw, as a serialization bug would; its second is journaled.
        // The first feature batch's append throws as well: it is no one message's, so it is dropped and counted, and
        // it must not stop the pipeline (it did: the exception left the pipeline and stopped the host).
        var journalBombs = 1;
        var featureBombs = 1;
        gateway.Services.GetRequiredService<PdM.Edge.Gateway.Uplink.EventJournal>().BeforeAppend = message =>
        {
            if (message is FailurePredicted { AssetId: "P1" } && Interlocked.Exchange(ref journalBombs, 0) == 1)
            {
                throw new NotSupportedException("serializer failed on P1's prediction");
            }

            if (message is FeatureWindowsCollected && Interlocked.Exchange(ref featureBombs, 0) == 1)
            {
                throw new FormatException("serializer failed on a feature batch");
            }
        };

        // Per asset, readings in turn (so the assets' messages share the pipeline's batches). P0's 8.0 window follows its
        // poisoned message; P1 alerts twice (8.0, back to 2.0, 8.0 again), and the message that closes its first alerting
        // window is the one poisoned; P2 has no fault.
        double[][] series = [[2.0, 6.5, 8.0, 2.0, 2.0], [2.0, 8.0, 2.0, 8.0, 2.0, 2.0], [2.0, 8.0, 2.0, 2.0]];
        using var device = await GatewayUnderTest.ConnectClient($"dev-{site}", LocalDependencies.MqttPort);
        var published = await PublishInTurnsAsync(device, site, series);

        try
        {
            await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.ingest.processed")), n => n >= published, TimeSpan.FromSeconds(60),
                "every message processed and acknowledged");

            // The host is up; every asset's alert after its poisoned message reached the bus, and only P1's first was lost.
            Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the gateway kept running");
            await Eventually.Until(() => Task.FromResult(gateway.Events.OfType<FailurePredicted>().Select(p => p.AssetId).Order().ToList()),
                assets => assets.SequenceEqual(["P0", "P1", "P2"]), TimeSpan.FromSeconds(60), "one prediction each of P0, P1 and P2 delivered");
            Assert.Equal(0, Volatile.Read(ref journalBombs));
            Assert.Equal(0, Volatile.Read(ref featureBombs));
            Assert.Equal(1, gateway.Metrics.Total("pdm.feature_upload.dropped", "exception", nameof(FormatException)));
            await Eventually.Until(() => Task.FromResult(gateway.Events.OfType<FeatureWindowsCollected>().Count), n => n > 0, TimeSpan.FromSeconds(30),
                "the feature batches after the dropped one delivered");

            // Each poisoned message counted once by stage and exception type, and dead-lettered with them.
            Assert.Equal(1, gateway.Metrics.Total("pdm.pipeline.poisoned", "stage", "decode"));
            Assert.Equal(1, gateway.Metrics.Total("pdm.pipeline.poisoned", "stage", "journal"));
            Assert.Equal(1, gateway.Metrics.Total("pdm.pipeline.poisoned", "exception", nameof(InvalidDataException)));
            Assert.Equal(1, gateway.Metrics.Total("pdm.pipeline.poisoned", "exception", nameof(NotSupportedException)));
            Assert.Equal(2, gateway.Metrics.Total("pdm.ingest.rejected", "reason", "poisoned"));
            var letters = await Eventually.Until(() => Task.FromResult(deadLetters.Where(d => d.RootElement.GetProperty("reason").GetString() == "poisoned").ToList()),
                found => found.Count >= 2, TimeSpan.FromSeconds(30), "both poisoned messages dead-lettered");
            Assert.Equal(2, letters.Count);
            var decode = Assert.Single(letters, d => d.RootElement.GetProperty("topic").GetString() == TelemetryTopics.Telemetry(site, "P0"));
            Assert.StartsWith("decode: System.IO.InvalidDataException: decoder failed on 6.5", decode.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains("\"vibration_rms_mm_s\":6.5", decode.RootElement.GetProperty("payloadUtf8").GetString(), StringComparison.Ordinal);
            var journal = Assert.Single(letters, d => d.RootElement.GetProperty("topic").GetString() == TelemetryTopics.Telemetry(site, "P1"));
            Assert.StartsWith("journal: System.NotSupportedException: serializer failed on P1's prediction", journal.RootElement.GetProperty("detail").GetString(),
                StringComparison.Ordinal);
            // The asset whose event could not be journaled, for the operator who reads the dead letter (and event 1108).
            Assert.True(journal.RootElement.TryGetProperty("asset", out var journalAsset), "the journal-stage dead letter names no asset");
            Assert.Equal("P1", journalAsset.GetString());
            Assert.True(gateway.Logs.Contains("the journal stage threw", "(asset P1)"), "event 1108 names no asset for the journal stage");
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        // Started again on the same session with healthy code: neither poisoned message is handed back.
        await AssertNothingRedeliveredAfterRestartAsync(site, settings, device);
    }

    [Fact]
    public async Task A_model_run_failing_on_one_assets_row_leaves_the_rest_of_the_batch_to_the_model()
    {
        const int assets = 4;
        const int messagesPerAsset = 10;
        var site = LocalDependencies.UniqueName("poison-model").Replace('_', '-');
        var work = Path.Combine(Path.GetTempPath(), "pdm-tests", site);
        var store = Path.Combine(work, "store");
        Assert.NotNull(new PdM.Edge.Inference.LocalModelStore(store).Install(
            Path.Combine(LocalDependencies.RepositoryRoot, "tests", "models", "generated", "broken_run_fails")).Package);
        var spec = await MillFeatureSpecs.WriteTwoReadingMeans(work);
        List<string> settings =
        [
            "--Urls=http://127.0.0.1:0", "--Messaging:Transport=InMemory", $"--Gateway:SiteId={site}",
            $"--Gateway:Mqtt:Host={LocalDependencies.MqttHost}", $"--Gateway:Mqtt:Port={LocalDependencies.MqttPort}",
            $"--Gateway:Mqtt:ClientId=gw-{site}", $"--Gateway:Mqtt:TopicFilters:0=pdm/{site}/+/telemetry", "--Gateway:SparkplugHost=false",
            $"--Gateway:FeatureSpecPath={spec}", $"--Journal:Path={Path.Combine(work, "journal.db")}", "--Ingestion:MaxPastAge=1.00:00:00",
            $"--Inference:ModelStorePath={store}", "--Inference:BreakerFailureThreshold=1",
        ];
        string[] sensors = ["air_temperature_k", "process_temperature_k", "rotational_speed_rpm", "torque_nm", "tool_wear_min"];
        for (var a = 0; a < assets; a++)
        {
            settings.Add($"--AssetModel:Assets:{a}:Id=MILL-{a}");
            settings.Add($"--AssetModel:Assets:{a}:AssetClass=milling-machine");
            for (var s = 0; s < sensors.Length; s++)
            {
                settings.AddRange([$"--AssetModel:Assets:{a}:Sensors:{s}:Id={sensors[s]}", $"--AssetModel:Assets:{a}:Sensors:{s}:Unit=1",
                    $"--AssetModel:Assets:{a}:Sensors:{s}:ValidMin=-1000", $"--AssetModel:Assets:{a}:Sensors:{s}:ValidMax=100000"]);
            }
        }

        var app = GatewayApplication.Build([.. settings]);
        using var metrics = new MetricRecorder(app.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            PdM.Edge.Inference.InferenceTelemetry.MeterName, GatewayTelemetry.Name);

        // The burst waits in the channel before the pipeline starts, so windows of all four assets share model runs.
        // MILL-2's tool wear of 251 min makes the model's Gather fail, and ONNX Runtime fails the whole run with it.
        var acknowledged = 0;
        var channel = app.Services.GetRequiredService<IngestChannel>();
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        for (var i = 0; i < assets * messagesPerAsset; i++)
        {
            var (asset, k) = (i % assets, i / assets);
            var payload = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"{{\"schemaVersion\":1,\"deviceTime\":\"{start.AddMilliseconds(k * 100):yyyy-MM-ddTHH:mm:ss.fffZ}\",\"readings\":{{"
                + $"\"air_temperature_k\":300,\"process_temperature_k\":310,\"rotational_speed_rpm\":1500,\"torque_nm\":40,\"tool_wear_min\":{(asset == 2 ? 251 : 100)}}}}}"));
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(payload.Length);
            payload.CopyTo(buffer, 0);
            Assert.True(channel.Writer.TryWrite(new InboundMessage($"pdm/{site}/MILL-{asset}/telemetry", buffer, payload.Length, DateTimeOffset.UtcNow, default,
                _ =>
                {
                    Interlocked.Increment(ref acknowledged);
                    return Task.CompletedTask;
                })));
        }

        await app.StartAsync();
        try
        {
            await Eventually.Until(() => Task.FromResult(Volatile.Read(ref acknowledged)), n => n >= assets * messagesPerAsset, TimeSpan.FromSeconds(60),
                "the burst acknowledged");

            // A window per message after an asset's second: MILL-2's all fell back alone, every other asset's kept the
            // model, in shared runs, and the breaker (opened by one failing run) stayed closed.
            const int windowsPerAsset = messagesPerAsset - 2;
            Assert.Equal(windowsPerAsset, metrics.Total("pdm.decisions", "reason", "run_failed"));
            Assert.Equal((assets - 1) * windowsPerAsset, metrics.Total("pdm.decisions", "path", "model"));
            Assert.True(metrics.Count("pdm.inference.batch.size") < assets * windowsPerAsset, "windows of several assets shared model runs");
            Assert.Equal(0, metrics.Total("pdm.pipeline.poisoned"));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static List<string> Settings(string site)
    {
        List<string> settings =
        [
            $"--Gateway:Mqtt:TopicFilters:0=pdm/{site}/+/telemetry",
            "--Gateway:SparkplugHost=false",
            $"--Gateway:FeatureSpecPath={TestFeatureSpecs.PerReading()}",
            // Every dead letter sampled: this test reads each one.
            "--Ingestion:DeadLetterSamplesPerReasonPerSecond=100",
        ];
        for (var a = 0; a < 3; a++)
        {
            settings.AddRange(
            [
                $"--AssetModel:Assets:{a}:Id=P{a}", $"--AssetModel:Assets:{a}:AssetClass=centrifugal-pump",
                $"--AssetModel:Assets:{a}:Sensors:0:Id=vibration_rms_mm_s", $"--AssetModel:Assets:{a}:Sensors:0:Unit=mm/s",
                $"--AssetModel:Assets:{a}:Sensors:0:ValidMin=0", $"--AssetModel:Assets:{a}:Sensors:0:ValidMax=100",
            ]);
        }

        return settings;
    }

    /// <summary>Dead letters as an operator's subscriber sees them, on the real broker.</summary>
    private static async Task<IMqttClient> WatchDeadLettersAsync(string site, ConcurrentQueue<JsonDocument> deadLetters)
    {
        var watcher = await GatewayUnderTest.ConnectClient($"dl-{site}", LocalDependencies.MqttPort);
        watcher.ApplicationMessageReceivedAsync += e =>
        {
            deadLetters.Enqueue(JsonDocument.Parse(e.ApplicationMessage.ConvertPayloadToString()));
            return Task.CompletedTask;
        };
        await watcher.SubscribeAsync(TelemetryTopics.DeadLetter(site), MqttQualityOfServiceLevel.AtLeastOnce);
        return watcher;
    }

    /// <summary>Asset P<i>a</i>'s readings <c>series[a]</c>, the assets in turn, 10 ms apart; returns how many were published.</summary>
    private static async Task<int> PublishInTurnsAsync(IMqttClient device, string site, double[][] series)
    {
        var clock = DateTimeOffset.UtcNow.AddMinutes(-1);
        var published = 0;
        for (var k = 0; k < series.Max(s => s.Length); k++)
        {
            for (var a = 0; a < series.Length; a++)
            {
                if (k < series[a].Length)
                {
                    clock = clock.AddMilliseconds(10);
                    await GatewayUnderTest.PublishVibration(device, site, "P" + a, clock, series[a][k]);
                    published++;
                }
            }
        }

        return published;
    }

    /// <summary>
    /// Started again on the same session (client id, journal) with healthy code: whatever the broker still held for the
    /// gateway would be handed over before a message published now, so when that one is processed, nothing else has
    /// been received.
    /// </summary>
    private static async Task AssertNothingRedeliveredAfterRestartAsync(string site, IReadOnlyList<string> settings, IMqttClient device)
    {
        var restarted = await GatewayUnderTest.StartAsync(site, settings);
        try
        {
            await GatewayUnderTest.PublishVibration(device, site, "P0", DateTimeOffset.UtcNow.AddSeconds(-1), 2.0);
            await Eventually.Until(() => Task.FromResult(restarted.Metrics.Total("pdm.ingest.processed")), n => n >= 1, TimeSpan.FromSeconds(60),
                "the marker processed after the restart");
            Assert.Equal(1, restarted.Metrics.Total("pdm.ingest.messages"));
            Assert.Equal(0, restarted.Metrics.Total("pdm.pipeline.poisoned"));
        }
        finally
        {
            await restarted.DisposeAsync();
        }
    }

    /// <summary>The shipped rules, except that evaluating <paramref name="assetId"/>'s window of <paramref name="vibration"/> throws, as a buggy rule would.</summary>
    private sealed class RuleThatThrowsFor(string assetId, double vibration, IRulesEvaluator rules) : IRulesEvaluator
    {
        public RulesDecision Evaluate(RulesInput input)
        {
            if (input.AssetId == assetId && input.Facts.TryGetValue("vibration_rms_mm_s", out var value) && value == vibration)
            {
                throw new InvalidOperationException("rule failed for " + assetId);
            }

            return rules.Evaluate(input);
        }
    }
}
