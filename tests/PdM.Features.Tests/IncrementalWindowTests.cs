namespace PdM.Features.Tests;

/// <summary>
/// The engine keeps sliding-window statistics up to date as readings enter and leave (<c>SlidingSeries</c>) instead of
/// recomputing each window as it closes. Over long random streams every feature of every emitted vector must equal
/// <see cref="FeatureMath"/> recomputed on that window's contents, found here by brute force from the stream, within
/// 1e-9 (relative above magnitude 1): the streams mix large offsets, tiny and huge spreads, random walks, constant
/// stretches, repeated timestamps and missing sensors, the cases where naive running sums drift or cancel.
/// </summary>
public sealed class IncrementalWindowTests
{
    private static readonly FeatureFunction[] Functions =
    [
        FeatureFunction.Mean, FeatureFunction.Std, FeatureFunction.Min, FeatureFunction.Max, FeatureFunction.Rms,
        FeatureFunction.PeakToPeak, FeatureFunction.CrestFactor, FeatureFunction.Slope, FeatureFunction.Last,
        FeatureFunction.Skewness, FeatureFunction.Kurtosis,
    ];

    public static TheoryData<string> Windows => ["count 10 hop 1", "count 50 hop 7 + look-backs", "time 1000 hop 250 + count look-back", "time 500 tumbling"];

    [Theory]
    [MemberData(nameof(Windows))]
    public void Every_feature_of_every_window_equals_the_recomputed_value_over_a_long_random_stream(string shape)
    {
        var (window, lookBacks) = shape switch
        {
            "count 10 hop 1" => (WindowSpec.Count(10, 1), Array.Empty<WindowSpec>()),
            "count 50 hop 7 + look-backs" => (WindowSpec.Count(50, 7), [WindowSpec.Time(5_000), WindowSpec.Count(200)]),
            "time 1000 hop 250 + count look-back" => (WindowSpec.Time(1_000, 250), [WindowSpec.Count(30)]),
            _ => (WindowSpec.Time(500), Array.Empty<WindowSpec>()),
        };
        var sensors = new[] { "offset_1e6", "tiny_spread", "walk", "constant_runs", "huge_spread", "sparse" };
        var features = new List<FeatureDefinition>();
        foreach (var sensor in sensors)
        {
            foreach (var function in Functions)
            {
                features.Add(new() { Name = $"{sensor}_{function}", Sensor = sensor, Function = function });
            }

            for (var l = 0; l < lookBacks.Length; l++)
            {
                features.Add(new() { Name = $"{sensor}_mean_lb{l}", Sensor = sensor, Function = FeatureFunction.Mean, Window = lookBacks[l] });
                features.Add(new() { Name = $"{sensor}_std_lb{l}", Sensor = sensor, Function = FeatureFunction.Std, Window = lookBacks[l] });
                features.Add(new() { Name = $"{sensor}_slope_lb{l}", Sensor = sensor, Function = FeatureFunction.Slope, Window = lookBacks[l] });
                features.Add(new() { Name = $"{sensor}_max_lb{l}", Sensor = sensor, Function = FeatureFunction.Max, Window = lookBacks[l] });
            }
        }

        var spec = new FeatureSpec { Window = window, Features = features };
        var readings = RandomStream(sensors, assets: 3, ticksPerAsset: 8_000, seed: shape.GetHashCode(StringComparison.Ordinal) & 0xffff);
        var vectors = FeatureEngine.ComputeOffline(spec, readings);
        Assert.True(vectors.Count > 500, $"only {vectors.Count} windows closed");

        var byAsset = readings.GroupBy(r => r.AssetId).ToDictionary(g => g.Key, g => g.OrderBy(r => r.TimestampUnixMs)
            .ThenBy(r => Array.IndexOf(sensors, r.Sensor)).ThenBy(r => r.Value).ToArray());
        var timesByAsset = byAsset.ToDictionary(p => p.Key, p => p.Value.Select(r => r.TimestampUnixMs).ToArray());
        var checkedValues = 0;
        foreach (var vector in vectors)
        {
            var stream = byAsset[vector.AssetId];
            var times = timesByAsset[vector.AssetId];

            // Each distinct window's contents, per sensor, gathered once per vector.
            var contents = new Dictionary<(WindowSpec, string), (double[] Values, long[] Stamps)>();
            for (var f = 0; f < features.Count; f++)
            {
                var feature = features[f];
                var own = feature.Window ?? window;
                if (!contents.TryGetValue((own, feature.Sensor), out var content))
                {
                    var (from, to) = Range(times, own, vector.WindowEndUnixMs);
                    var values = new List<double>();
                    var stamps = new List<long>();
                    for (var i = from; i < to; i++)
                    {
                        if (stream[i].Sensor == feature.Sensor)
                        {
                            values.Add(stream[i].Value);
                            stamps.Add(stream[i].TimestampUnixMs);
                        }
                    }

                    content = (values.ToArray(), stamps.ToArray());
                    contents[(own, feature.Sensor)] = content;
                }

                var expected = FeatureMath.Compute(feature.Function, content.Values, content.Stamps);
                var actual = vector.ExactValues[f];
                if (double.IsNaN(expected))
                {
                    Assert.True(double.IsNaN(actual), $"{feature.Name} at {vector.WindowEndUnixMs}: {actual}, expected NaN");
                    continue;
                }

                var tolerance = 1e-9 * Math.Max(1, Math.Abs(expected));
                Assert.True(Math.Abs(actual - expected) <= tolerance,
                    $"{feature.Name} of {vector.AssetId} window ending {vector.WindowEndUnixMs} ({content.Values.Length} values): {actual:R}, recomputed {expected:R}");
                checkedValues++;
            }
        }

        Assert.True(checkedValues > 30_000, $"only {checkedValues} values compared");
    }

    /// <summary>The readings [from, to) of a feature's window ending at <paramref name="end"/>: a time span, or the last N distinct timestamps.</summary>
    private static (int From, int To) Range(long[] times, WindowSpec window, long end)
    {
        var to = LowerBound(times, end);
        if (window.Kind == WindowKind.Time)
        {
            return (LowerBound(times, end - window.LengthMs), to);
        }

        var from = to;
        var ticks = 0;
        while (from > 0 && ticks < window.Size)
        {
            var t = times[from - 1];
            while (from > 0 && times[from - 1] == t)
            {
                from--;
            }

            ticks++;
        }

        return (from, to);
    }

    private static int LowerBound(long[] times, long value)
    {
        int lo = 0, hi = times.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (times[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>In event-time order per asset; every few ticks share a timestamp, a sensor may repeat or be missing.</summary>
    private static List<FeatureReading> RandomStream(string[] sensors, int assets, int ticksPerAsset, int seed)
    {
        var random = new Random(seed);
        var readings = new List<FeatureReading>(assets * ticksPerAsset * sensors.Length);
        for (var a = 0; a < assets; a++)
        {
            var asset = "m" + a;
            var t = 1_700_000_000_000L + random.Next(0, 10_000);
            var walk = 0.0;
            var constant = 5.0;
            for (var tick = 0; tick < ticksPerAsset; tick++)
            {
                // 0 ms steps: several ticks' readings land on one timestamp.
                t += random.Next(0, 4) == 0 ? 0 : random.Next(1, 40);
                walk += random.NextDouble() - 0.5;
                if (tick % 60 == 0)
                {
                    constant = Math.Round(random.NextDouble() * 100, 2);
                }

                readings.Add(new(asset, "offset_1e6", t, 1e6 + random.NextDouble()));
                readings.Add(new(asset, "tiny_spread", t, 42.0 + (random.NextDouble() * 1e-6)));
                readings.Add(new(asset, "walk", t, walk * 1_000));
                readings.Add(new(asset, "constant_runs", t, constant));
                readings.Add(new(asset, "huge_spread", t, (random.NextDouble() - 0.5) * 1e8));
                if (random.Next(0, 5) == 0)
                {
                    readings.Add(new(asset, "sparse", t, random.NextDouble()));
                }

                if (random.Next(0, 20) == 0)
                {
                    // The same sensor twice at one timestamp.
                    readings.Add(new(asset, "walk", t, walk * 1_000 + random.NextDouble()));
                }
            }
        }

        return readings;
    }
}
