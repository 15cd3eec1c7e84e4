using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.Json.Nodes;
using PdM.ModelPackage;

namespace PdM.Edge.Inference.Tests;

/// <summary>
/// Drift: the logreg package with a training distribution (Gaussian per feature, the mean and σ of its AI4I feature
/// statistics) scores a stream; a stream shifted by 3σ raises the PSI gauge above the threshold and one
/// ModelDriftDetected, an unshifted stream stays below and raises nothing.
/// </summary>
public sealed class DriftTests : IDisposable
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private readonly string _package = PackageWithDistribution();

    public void Dispose() => Directory.Delete(_package, recursive: true);

    [Fact]
    public async Task A_stream_shifted_by_three_sigma_raises_the_gauge_above_the_threshold_and_one_drift_event()
    {
        await using var h = new InferenceHarness();
        Assert.True(h.Slots.Deploy(InferenceHarness.Milling, _package).Succeeded);

        await Stream(h, shiftSigmas: 3, rows: 1500);

        var psi = Gauge(h);
        Assert.Equal(InferenceHarness.Ai4iFeatures.Order(StringComparer.Ordinal), psi.Keys.Order(StringComparer.Ordinal));
        Assert.All(psi.Values, v => Assert.True(v > h.Options.DriftPsiThreshold, $"PSI {v} ≤ {h.Options.DriftPsiThreshold}"));

        // Raised once for the crossing (hysteresis), not once per batch after it.
        var drift = Assert.Single(h.Events.Drift);
        Assert.Equal("ai4i-failure-logreg", drift.ModelName);
        Assert.Equal(InferenceHarness.Milling, drift.AssetClass);
        Assert.True(drift.Psi > drift.Threshold);
        Assert.Equal(h.Options.DriftPsiThreshold, drift.Threshold);
        Assert.Equal(InferenceHarness.Ai4iFeatures.Length, drift.FeaturePsi.Count);
        Assert.Equal(drift.FeaturePsi.Values.Max(), drift.Psi);
        Assert.InRange(drift.WindowRows, h.Options.DriftMinRows, h.Options.DriftWindowSize);
    }

    [Fact]
    public async Task An_unshifted_stream_stays_below_the_threshold_and_raises_nothing()
    {
        await using var h = new InferenceHarness();
        Assert.True(h.Slots.Deploy(InferenceHarness.Milling, _package).Succeeded);

        await Stream(h, shiftSigmas: 0, rows: 1500);

        var psi = Gauge(h);
        Assert.Equal(InferenceHarness.Ai4iFeatures.Length, psi.Count);
        Assert.All(psi.Values, v => Assert.True(v < h.Options.DriftPsiClearBelow, $"PSI {v} of an undrifted stream"));
        Assert.Empty(h.Events.Drift);
    }

    [Fact]
    public async Task A_package_without_a_training_distribution_is_not_monitored()
    {
        await using var h = new InferenceHarness();
        h.Deploy("logreg_failure");

        await Stream(h, shiftSigmas: 3, rows: 400);

        Assert.Empty(Gauge(h));
        Assert.Empty(h.Events.Drift);
    }

    [Fact]
    public void A_clear_level_at_or_above_the_threshold_is_refused_at_start()
    {
        var options = new InferenceOptions { DriftPsiThreshold = 0.2, DriftPsiClearBelow = 0.2 };
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();

        Assert.False(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true));
        Assert.Contains(results, r => r.ErrorMessage!.Contains("DriftPsiClearBelow", StringComparison.Ordinal));
    }

    private static async Task Stream(InferenceHarness h, double shiftSigmas, int rows)
    {
        var (means, stds) = Statistics();
        var random = new Random(4242);
        for (var i = 0; i < rows; i++)
        {
            var row = new float[means.Length];
            for (var f = 0; f < row.Length; f++)
            {
                row[f] = (float)(means[f] + (stds[f] * (Gaussian(random) + shiftSigmas)));
            }

            await h.Decide(row, assetId: "mill-" + (i % 7));
        }
    }

    /// <summary>The drift gauge as a metrics exporter collects it: feature → PSI.</summary>
    private static Dictionary<string, double> Gauge(InferenceHarness h)
    {
        var values = new ConcurrentDictionary<string, double>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, h.Telemetry.Meter) && instrument.Name == "pdm.models.drift.psi")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "feature")
                {
                    values[(string)tag.Value!] = value;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return new Dictionary<string, double>(values, StringComparer.Ordinal);
    }

    private static (double[] Means, double[] Stds) Statistics()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(InferenceHarness.Model("logreg_failure"), "manifest.json")))!;
        var stats = manifest["featureStatistics"]!.AsArray();
        return ([.. stats.Select(s => (double)s!["mean"]!)], [.. stats.Select(s => (double)s!["std"]!)]);
    }

    /// <summary>logreg_failure copied with a trainingDistribution of 5,000 Gaussian rows per feature.</summary>
    private static string PackageWithDistribution()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pdm-drift-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(InferenceHarness.Model("logreg_failure")))
        {
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        }

        var (means, stds) = Statistics();
        var random = new Random(13);
        var columns = means.Select((m, f) => (IReadOnlyList<double>)[.. Enumerable.Range(0, 5000).Select(_ => m + (stds[f] * Gaussian(random)))]).ToList();
        var path = Path.Combine(dir, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(path))!;
        manifest["trainingDistribution"] = JsonSerializer.SerializeToNode(TrainingDistribution.FromColumns(InferenceHarness.Ai4iFeatures, columns), s_json);
        File.WriteAllText(path, manifest.ToJsonString());
        return dir;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
