using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace PdM.Edge.Inference.Tests;

/// <summary>
/// What the Models dashboard's shadow and canary panels read: the shadow comparison as cumulative row counters per
/// candidate, and the share of the assets each deciding version decides for.
/// </summary>
public sealed class ShadowAndCanaryMetricsTests
{
    [Fact]
    public async Task The_shadow_counters_count_the_compared_and_agreeing_rows_of_the_candidate()
    {
        await using var h = new InferenceHarness();
        var counted = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        using var listener = Listen(h, (name, value, tags) =>
        {
            if (name.StartsWith("pdm.models.shadow.", StringComparison.Ordinal))
            {
                counted.AddOrUpdate(name + "/" + tags["model.version"], (long)value, (_, v) => v + (long)value);
            }
        });
        h.Deploy("logreg_failure");
        Assert.True(h.Slots.DeployShadow(InferenceHarness.Milling, InferenceHarness.Model("logreg_failure_v2")).Succeeded);

        for (var round = 0; round < 3; round++)
        {
            foreach (var (input, _) in InferenceHarness.Golden("logreg_failure", "failure_probability"))
            {
                await h.Decide(input);
            }
        }

        var slot = h.Slots.Find(InferenceHarness.Milling)!;
        await slot.DrainAsync();
        var stats = slot.ShadowStatistics!;
        Assert.True(stats.ComparedRows > 0);
        Assert.Equal(stats.ComparedRows, counted["pdm.models.shadow.compared/2.0.0"]);
        Assert.Equal(stats.AgreedRows, counted["pdm.models.shadow.agreed/2.0.0"]);
        Assert.InRange(stats.AgreedRows, 1, stats.ComparedRows - 1); // v2 disagrees on some rows: the ratio is not trivially 0 or 1
    }

    [Fact]
    public async Task The_deciding_share_is_production_alone_then_split_with_the_canary()
    {
        await using var h = new InferenceHarness();
        h.Deploy("logreg_failure");
        Assert.Equal([("production", "1.0.0", 1.0)], Shares(h));

        Assert.True(h.Slots.DeployCanary(InferenceHarness.Milling, InferenceHarness.Model("logreg_failure_v2"), 0.3).Succeeded);
        var shares = Shares(h);

        Assert.Equal(2, shares.Count);
        Assert.Contains(("canary", "2.0.0", 0.3), shares);
        var production = Assert.Single(shares, s => s.Role == "production");
        Assert.Equal(("1.0.0", 0.7), (production.Version, Math.Round(production.Share, 9)));
    }

    private static List<(string Role, string Version, double Share)> Shares(InferenceHarness h)
    {
        var shares = new ConcurrentQueue<(string, string, double)>();
        using var listener = Listen(h, (name, value, tags) =>
        {
            if (name == "pdm.models.deciding_share")
            {
                shares.Enqueue((tags["role"], tags["model.version"], value));
            }
        });
        listener.RecordObservableInstruments();
        return [.. shares];
    }

    private static MeterListener Listen(InferenceHarness h, Action<string, double, Dictionary<string, string>> measured)
    {
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, h.Telemetry.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => measured(instrument.Name, value, Tags(tags)));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => measured(instrument.Name, value, Tags(tags)));
        listener.Start();
        return listener;
    }

    private static Dictionary<string, string> Tags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            result[tag.Key] = tag.Value as string ?? string.Empty;
        }

        return result;
    }
}
