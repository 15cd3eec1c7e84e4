namespace PdM.Features.Tests;

/// <summary>Real data: NASA C-MAPSS FD001, cycle as the time axis (timestamp = cycle × 1 000 ms).</summary>
public sealed class CmapssFeatureTests
{
    private static readonly int[] SensorNumbers = [2, 3, 4, 7, 11, 12, 15];

    private static readonly FeatureSpec Spec = new()
    {
        Window = WindowSpec.Count(30, 1),
        Features =
        [
            .. SensorNumbers.SelectMany(s => new FeatureDefinition[]
            {
                new() { Name = $"s{s}_mean", Sensor = $"s{s}", Function = FeatureFunction.Mean },
                new() { Name = $"s{s}_std", Sensor = $"s{s}", Function = FeatureFunction.Std },
                new() { Name = $"s{s}_slope", Sensor = $"s{s}", Function = FeatureFunction.Slope },
                new() { Name = $"s{s}_rms", Sensor = $"s{s}", Function = FeatureFunction.Rms },
            }),
        ],
    };

    private static readonly IReadOnlyList<double[]> Rows = TestData.ReadCmapss("train_FD001.txt");

    [Fact]
    public void Engine_1_every_sliding_window_matches_the_textbook_mean_std_slope_and_rms()
    {
        var engine1 = Rows.Where(r => r[0] == 1).ToArray();
        Assert.Equal(192, engine1.Length);

        var vectors = FeatureEngine.ComputeOffline(Spec, Readings(engine1));

        Assert.Equal(192 - 30 + 1, vectors.Count);
        for (var w = 0; w < vectors.Count; w++)
        {
            var rows = engine1.Skip(w).Take(30).ToArray();
            var v = vectors[w];
            Assert.Equal((long)rows[0][1] * 1000, v.WindowStartUnixMs);
            Assert.Equal(((long)rows[^1][1] * 1000) + 1, v.WindowEndUnixMs);
            Assert.Equal(30 * SensorNumbers.Length, v.ReadingCount);
            for (var s = 0; s < SensorNumbers.Length; s++)
            {
                var xs = rows.Select(r => r[TestData.CmapssColumn(SensorNumbers[s])]).ToArray();
                var cycles = rows.Select(r => r[1]).ToArray();
                var mean = xs.Average();
                var std = Math.Sqrt(xs.Select(x => (x - mean) * (x - mean)).Average());
                var meanC = cycles.Average();
                var slope = cycles.Zip(xs, (c, x) => (c - meanC) * (x - mean)).Sum() / cycles.Sum(c => (c - meanC) * (c - meanC));
                var rms = Math.Sqrt(xs.Select(x => x * x).Average());
                var at = $"window {w} s{SensorNumbers[s]}";

                TestData.AssertClose(mean, v.ExactValues[(4 * s) + 0], at + " mean");
                TestData.AssertClose(std, v.ExactValues[(4 * s) + 1], at + " std");
                TestData.AssertClose(slope, v.ExactValues[(4 * s) + 2], at + " slope");
                TestData.AssertClose(rms, v.ExactValues[(4 * s) + 3], at + " rms");
                Assert.Equal((float)mean, v.Values[4 * s]);
            }
        }
    }

    [Fact]
    public void Streaming_by_slot_with_engines_interleaved_equals_ComputeOffline_on_all_of_FD001()
    {
        var offline = FeatureEngine.ComputeOffline(Spec, Readings(Rows));

        // Stream the same data as a gateway would see it: every engine's cycle c before any engine's cycle c + 1.
        var streamed = new List<FeatureVectorSnapshot>();
        var engine = new FeatureEngine(Spec, (in FeatureVector v) => streamed.Add(v.ToSnapshot()));
        var sensorIndex = SensorNumbers.Select(s => engine.GetSensorIndex($"s{s}")).ToArray();
        foreach (var row in Rows.OrderBy(r => r[1]).ThenBy(r => r[0]))
        {
            var slot = engine.RegisterAsset(AssetId(row));
            for (var s = 0; s < SensorNumbers.Length; s++)
            {
                Assert.Equal(ReadingOutcome.Accepted,
                    engine.Add(slot, sensorIndex[s], (long)row[1] * 1000, row[TestData.CmapssColumn(SensorNumbers[s])]));
            }
        }

        engine.Flush();

        Assert.Equal(Rows.Count - (100 * 29), offline.Count);
        Assert.Equal(offline.OrderBy(v => v.AssetId, StringComparer.Ordinal).ThenBy(v => v.WindowStartUnixMs),
            streamed.OrderBy(v => v.AssetId, StringComparer.Ordinal).ThenBy(v => v.WindowStartUnixMs));
        Assert.Equal(0, engine.LateReadings);
    }

    private static string AssetId(double[] row) => "fd001-unit-" + ((int)row[0]).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static IEnumerable<FeatureReading> Readings(IEnumerable<double[]> rows)
    {
        foreach (var row in rows)
        {
            foreach (var s in SensorNumbers)
            {
                yield return new FeatureReading(AssetId(row), $"s{s}", (long)row[1] * 1000, row[TestData.CmapssColumn(s)]);
            }
        }
    }
}
