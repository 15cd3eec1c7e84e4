using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using PdM.Contracts;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway.Pipeline;
using PdM.Edge.Ingestion;
using PdM.Edge.Ingestion.Model;
using PdM.Edge.Simulator;
using PdM.Features;
using PdM.Testing;
using PdM.Training;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// Train/serve parity for the demo's turbofans: the spec the gateway ships is the spec the C-MAPSS trainer uses, and an
/// engine replayed by the simulator, parsed by the ingestor and windowed by the gateway's feature stage gives exactly
/// the training vectors of that engine.
/// </summary>
public sealed class TurbofanFeaturesTests
{
    internal const string SpecPath = "edge/PdM.Edge.Gateway/specs/turbofan-fd001.json";
    private const string Site = "parity-plant";

    [Fact]
    public void The_shipped_turbofan_spec_is_the_spec_the_cmapss_trainer_uses()
    {
        var shipped = FeatureSpec.Parse(File.ReadAllText(Path.Combine(LocalDependencies.RepositoryRoot, SpecPath)));

        // The training run's own defaults (window, cycle feature, look-back), not a copy of them.
        var run = new CmapssRunOptions { TrainFile = "unused", OutputDirectory = "unused" };
        var trainer = CmapssTraining.DefaultSpec(run.WindowSize, run.IncludeCycle, run.LongWindow);

        Assert.Equal(FeatureSpecDigest.Compute(trainer), FeatureSpecDigest.Compute(shipped));
        Assert.Equal(trainer, shipped);
    }

    [Fact]
    public void The_simulator_publishes_exactly_the_sensors_the_turbofan_spec_reads()
    {
        var spec = FeatureSpec.Parse(File.ReadAllText(Path.Combine(LocalDependencies.RepositoryRoot, SpecPath)));
        var replay = new CmapssReplayOptions();
        var published = new List<string>(replay.EffectiveSensors);
        if (replay.IncludeCycle)
        {
            published.Add(CmapssReplay.CycleSensor);
        }

        Assert.Equal(spec.Sensors.Order(StringComparer.Ordinal), published.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_replayed_engine_gives_the_training_vectors_of_that_engine_and_pumps_keep_the_default_spec()
    {
        var catalog = FeatureSpecCatalog.Load(new GatewayOptions { FeatureSpecs = { ["turbofan"] = SpecPath } });
        var model = AssetModel.Create(new SiteAssetModelOptions { SiteId = Site, Assets = [Turbofan("ENGINE-031"), Pump("PUMP-1")] });
        var stage = new FeatureStage(model, catalog, new FeatureTelemetry());
        var ingestor = new TelemetryIngestor(model, new IngestionOptions(), new IngestionTelemetry());

        Assert.Equal("turbofan-fd001", stage.SpecOf("ENGINE-031")!.Name);
        Assert.Equal(FeatureSpecCatalog.DefaultName, stage.SpecOf("PUMP-1")!.Name);
        Assert.NotEqual(stage.SpecOf("ENGINE-031")!.Digest, stage.SpecOf("PUMP-1")!.Digest);

        var replay = CmapssReplay.Load(new CmapssReplayOptions { Enabled = true, Units = [31], Loop = false });
        var now = DateTimeOffset.UtcNow;
        var windows = new List<ClosedWindow>();
        var messages = new List<(string AssetId, TelemetryMessage Message)>();
        var sink = new CollectingIngestSink();
        for (var cycle = 0; cycle < 400; cycle++)
        {
            messages.Clear();
            replay.NextCycle(now, messages);
            if (messages.Count == 0)
            {
                break;
            }

            // Pumps report at 1 Hz beside the engine: their windows must not mix with the engine's.
            var pump = new TelemetryMessage
            {
                SchemaVersion = 1,
                DeviceTime = messages[0].Message.DeviceTime,
                Readings = new() { ["vibration_rms_mm_s"] = 2 + (cycle % 7 * 0.1), ["bearing_temperature_c"] = 60 },
            };
            Ingest(ingestor, stage, sink, TelemetryTopics.Telemetry(Site, "PUMP-1"), pump, windows, now);
            Ingest(ingestor, stage, sink, TelemetryTopics.Telemetry(Site, messages[0].AssetId), messages[0].Message, windows, now);
        }

        var expected = CmapssTraining.ComputeFeatures(CmapssDataset.Load(Path.Combine(LocalDependencies.RepositoryRoot, "datasets", "cmapss", "test_FD001.txt")), CmapssTraining.DefaultSpec(30, true, 100))
            .Where(v => v.AssetId == "engine-31")
            .ToList();
        var engine = windows.Where(w => w.AssetId == "ENGINE-031").ToList();

        // Offline, the stream ends and the last window is flushed; live, it closes when the next cycle arrives.
        Assert.Equal(196 - 29, expected.Count);
        Assert.Equal(expected.Count - 1, engine.Count);
        for (var i = 0; i < engine.Count; i++)
        {
            Assert.Same(catalog.For("turbofan"), engine[i].Features);
            Assert.Equal(expected[i].Values, engine[i].Values);
            Assert.Equal(expected[i].WindowEndUnixMs - expected[i].WindowStartUnixMs, engine[i].WindowEndUnixMs - engine[i].WindowStartUnixMs);
        }

        var pumps = windows.Where(w => w.AssetId == "PUMP-1").ToList();
        Assert.NotEmpty(pumps);
        Assert.All(pumps, w => Assert.Equal(DefaultFeatureSpec.Load(null).Features.Count, w.Values.Length));
        Assert.All(pumps, w => Assert.Equal(FeatureSpecCatalog.DefaultName, w.Features.Name));
    }

    [Fact]
    public void Configured_units_replace_the_default_engines_instead_of_joining_them()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Simulator:Cmapss:Units:0"] = "31", ["Simulator:Cmapss:Units:1"] = "49" })
            .Build();
        var options = new SimulatorOptions();
        configuration.GetSection(SimulatorOptions.Section).Bind(options);

        Assert.Equal([31, 49], options.Cmapss.EffectiveUnits);
        Assert.Equal(["ENGINE-031", "ENGINE-049"], CmapssReplay.Load(options.Cmapss).Engines.Select(e => e.AssetId));
        Assert.Equal([20, 31, 34, 35], new CmapssReplayOptions().EffectiveUnits);
    }

    [Fact]
    public void A_missing_or_invalid_class_spec_fails_the_start_naming_the_class()
    {
        var missing = FeatureSpecCatalog.Problems(new GatewayOptions { FeatureSpecs = { ["turbofan"] = "specs/nope.json" } }, out var none);
        Assert.Null(none);
        Assert.Contains("Gateway:FeatureSpecs:turbofan: feature spec file 'specs/nope.json' not found", Assert.Single(missing), StringComparison.Ordinal);

        var file = Path.Combine(Path.GetTempPath(), "pdm-spec-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(file, """{"specVersion":1,"window":{"kind":"count","size":0},"features":[]}""");
        try
        {
            var invalid = FeatureSpecCatalog.Problems(new GatewayOptions { FeatureSpecs = { ["turbofan"] = file } }, out _);
            Assert.StartsWith("Gateway:FeatureSpecs:turbofan (" + file + "): invalid feature spec", Assert.Single(invalid), StringComparison.Ordinal);
            var thrown = Assert.Throws<OptionsValidationException>(() => FeatureSpecCatalog.Load(new GatewayOptions { FeatureSpecs = { ["turbofan"] = file } }));
            Assert.Contains("turbofan", thrown.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    internal static AssetDefinition Turbofan(string id)
    {
        var asset = new AssetDefinition { Id = id, AssetClass = "turbofan" };
        asset.Sensors.Add(new SensorDefinition { Id = CmapssReplay.CycleSensor, Unit = "{cycle}", ValidMin = 1, ValidMax = 100_000 });
        foreach (var sensor in CmapssReplayOptions.DefaultSensors)
        {
            asset.Sensors.Add(new SensorDefinition { Id = sensor, Unit = "1", ValidMin = 0, ValidMax = 10_000 });
        }

        return asset;
    }

    internal static AssetDefinition Pump(string id) => new()
    {
        Id = id,
        AssetClass = "centrifugal-pump",
        Sensors =
        [
            new SensorDefinition { Id = "vibration_rms_mm_s", Unit = "mm/s", ValidMin = 0, ValidMax = 100 },
            new SensorDefinition { Id = "bearing_temperature_c", Unit = "Cel", ValidMin = -40, ValidMax = 250 },
        ],
    };

    /// <summary>The command-line form of <see cref="Turbofan"/> and <see cref="Pump"/> for a gateway process.</summary>
    internal static IEnumerable<string> AssetModelSettings(int index, AssetDefinition asset)
    {
        var c = CultureInfo.InvariantCulture;
        yield return string.Create(c, $"--AssetModel:Assets:{index}:Id={asset.Id}");
        yield return string.Create(c, $"--AssetModel:Assets:{index}:AssetClass={asset.AssetClass}");
        for (var s = 0; s < asset.Sensors.Count; s++)
        {
            var sensor = asset.Sensors[s];
            yield return string.Create(c, $"--AssetModel:Assets:{index}:Sensors:{s}:Id={sensor.Id}");
            yield return string.Create(c, $"--AssetModel:Assets:{index}:Sensors:{s}:Unit={sensor.Unit}");
            yield return string.Create(c, $"--AssetModel:Assets:{index}:Sensors:{s}:ValidMin={sensor.ValidMin}");
            yield return string.Create(c, $"--AssetModel:Assets:{index}:Sensors:{s}:ValidMax={sensor.ValidMax}");
        }
    }

    private static void Ingest(TelemetryIngestor ingestor, FeatureStage stage, CollectingIngestSink sink, string topic, TelemetryMessage message, List<ClosedWindow> windows, DateTimeOffset now)
    {
        sink.Clear();
        stage.ClearClosed();
        var payload = JsonSerializer.SerializeToUtf8Bytes(message, ContractsJsonContext.Default.TelemetryMessage);
        ingestor.Ingest(topic, payload, now, sink);
        Assert.Empty(sink.Rejections);
        foreach (var reading in sink.Readings)
        {
            stage.Add(reading);
        }

        // Copies: the stage reuses its windows after the next ClearClosed.
        foreach (var w in stage.Closed)
        {
            windows.Add(new ClosedWindow(w.AssetId, w.WindowStartUnixMs, w.WindowEndUnixMs, [.. w.Values], [.. w.ExactValues], w.Features));
        }
    }
}
