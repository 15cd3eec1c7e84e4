using Microsoft.Extensions.Options;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway.Pipeline;
using PdM.Edge.Ingestion;
using PdM.Edge.Ingestion.Model;
using PdM.Features;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>The per-class feature stage's hot path and the feature-upload batching, in process.</summary>
public sealed class FeatureStageTests
{
    private static readonly GatewayOptions Options = new() { FeatureSpecs = { ["turbofan"] = TurbofanFeaturesTests.SpecPath } };

    [Fact]
    public void Adding_readings_inside_an_open_window_allocates_nothing_with_two_classes_running()
    {
        var model = AssetModel.Create(new SiteAssetModelOptions { SiteId = "s", Assets = [TurbofanFeaturesTests.Pump("PUMP-1"), TurbofanFeaturesTests.Turbofan("ENGINE-001")] });
        var stage = new FeatureStage(model, FeatureSpecCatalog.Load(Options), new FeatureTelemetry());
        Assert.True(model.TryGetAsset("PUMP-1", out var pump));
        var vibration = Reading(model, pump, "vibration_rms_mm_s", 0, 2.0);

        // Window 1 grows the buffers; the first reading past the watermark closes it.
        for (var t = 0; t < 10_000; t += 10)
        {
            stage.Add(vibration with { DeviceTimeUnixMs = t, Value = 2 + (t % 7 * 0.01) });
        }

        stage.Add(vibration with { DeviceTimeUnixMs = 12_000 });
        Assert.Single(stage.Closed);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var t = 12_010; t < 19_990; t += 10)
        {
            stage.Add(vibration with { DeviceTimeUnixMs = t, Value = 2 + (t % 7 * 0.01) });
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Single(stage.Closed);
    }

    [Fact]
    public void Batches_are_cut_by_size_per_spec_and_by_time_and_not_at_all_when_disabled()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 11, 25, 4, 0, 0, TimeSpan.Zero), realTimers: true);
        var catalog = FeatureSpecCatalog.Load(Options);
        var turbofan = catalog.For("turbofan");
        var pump = catalog.Default;
        var options = new GatewayOptions { SiteId = "plant-x", FeatureUpload = new FeatureUploadOptions { Enabled = true, MaxRows = 3, MaxDelay = TimeSpan.FromSeconds(5) } };
        var batcher = new FeatureUploadBatcher(Microsoft.Extensions.Options.Options.Create(options), clock);
        var ready = new List<FeatureWindowsCollected>();

        batcher.Add([Window("ENGINE-001", 1, turbofan), Window("PUMP-1", 1, pump), Window("ENGINE-001", 2, turbofan)], ready);
        Assert.Empty(ready);
        batcher.Add([Window("ENGINE-001", 3, turbofan), Window("ENGINE-001", 4, turbofan)], ready);

        var full = Assert.Single(ready);
        Assert.Equal([1L, 2, 3], full.Rows.Select(r => r.WindowEndUnixMs));
        Assert.Equal(turbofan.Digest, full.FeatureSpecDigest);
        Assert.Equal("turbofan-fd001", full.FeatureSpecName);
        Assert.Equal(turbofan.FeatureNames, full.FeatureNames);
        Assert.Equal(("gw-plant-x", "plant-x"), (full.GatewayId, full.SiteId));

        ready.Clear();
        clock.Advance(TimeSpan.FromSeconds(4.9));
        batcher.TakeDue(ready);
        Assert.Empty(ready);
        clock.Advance(TimeSpan.FromSeconds(0.1));
        batcher.TakeDue(ready);
        Assert.Equal(2, ready.Count);
        Assert.Equal(["ENGINE-001", "PUMP-1"], ready.Select(b => b.Rows.Single().AssetId).Order(StringComparer.Ordinal));
        Assert.Equal(pump.Digest, ready.Single(b => b.Rows[0].AssetId == "PUMP-1").FeatureSpecDigest);

        var disabled = new FeatureUploadBatcher(Microsoft.Extensions.Options.Options.Create(new GatewayOptions()), clock);
        ready.Clear();
        disabled.Add([Window("ENGINE-001", 1, turbofan), Window("ENGINE-001", 2, turbofan), Window("ENGINE-001", 3, turbofan)], ready);
        disabled.TakeDue(ready, all: true);
        Assert.Empty(ready);
    }

    private static ClosedWindow Window(string asset, long end, ClassFeatureSpec features) =>
        new(asset, end - 1, end, new float[features.FeatureNames.Count], new double[features.FeatureNames.Count], features);

    private static Reading Reading(AssetModel model, AssetEntry asset, string sensor, long time, double value)
    {
        foreach (var s in asset.Sensors)
        {
            if (s.Id == sensor)
            {
                return new Reading(model.SiteId, asset.Id, s.Id, s.Key, time, value, default);
            }
        }

        throw new ArgumentException(sensor + " is not a sensor of " + asset.Id, nameof(sensor));
    }
}
