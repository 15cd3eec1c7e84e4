using System.Diagnostics.Metrics;

namespace PdM.Features.Tests;

/// <summary>Window boundaries, watermark, lateness and ordering on small hand-checked streams.</summary>
public sealed class FeatureEngineWindowTests
{
    private static readonly FeatureDefinition[] MinMaxMean =
    [
        new() { Name = "min", Sensor = "x", Function = FeatureFunction.Min },
        new() { Name = "max", Sensor = "x", Function = FeatureFunction.Max },
        new() { Name = "mean", Sensor = "x", Function = FeatureFunction.Mean },
    ];

    [Fact]
    public void Tumbling_count_windows_hold_consecutive_blocks_and_no_partial_window_is_emitted()
    {
        var vectors = Run(new FeatureSpec { Window = WindowSpec.Count(4), Features = MinMaxMean }, Series(0, 11));

        // 11 readings: [0..3], [4..7]; the last 3 never make a full window, not even at Flush.
        Assert.Equal([(0L, 3001L, 4, 0.0, 3.0), (4000L, 7001L, 4, 4.0, 7.0)], Describe(vectors));
        Assert.Equal(1.5, vectors[0].ExactValues[2]);
    }

    [Fact]
    public void Hopping_count_windows_start_every_hop_ticks()
    {
        var vectors = Run(new FeatureSpec { Window = WindowSpec.Count(4, 2), Features = MinMaxMean }, Series(0, 9));

        Assert.Equal(
            [(0L, 3001L, 4, 0.0, 3.0), (2000L, 5001L, 4, 2.0, 5.0), (4000L, 7001L, 4, 4.0, 7.0)],
            Describe(vectors));
    }

    [Fact]
    public void Count_windows_count_timestamps_so_every_sensor_of_a_row_is_in_the_same_window()
    {
        var spec = new FeatureSpec
        {
            Window = WindowSpec.Count(2),
            Features =
            [
                new() { Name = "a_mean", Sensor = "a", Function = FeatureFunction.Mean },
                new() { Name = "b_last", Sensor = "b", Function = FeatureFunction.Last },
            ],
        };
        var collector = new Collector();
        var engine = new FeatureEngine(spec, collector.Handle);
        for (var t = 0; t < 4; t++)
        {
            engine.Add("m1", "a", t * 1000L, t);
            engine.Add("m1", "b", t * 1000L, 10 * t);
        }

        engine.Flush();

        Assert.Equal(2, collector.Vectors.Count);
        Assert.Equal([0.5, 10.0], collector.Vectors[0].ExactValues);
        Assert.Equal([2.5, 30.0], collector.Vectors[1].ExactValues);
        Assert.Equal(4, collector.Vectors[1].ReadingCount);
    }

    [Fact]
    public void Hopping_time_windows_are_epoch_aligned_and_flush_closes_the_open_ones()
    {
        var spec = new FeatureSpec { Window = WindowSpec.Time(10_000, 5_000), Features = MinMaxMean };
        var vectors = Run(spec, Series(0, 30));

        Assert.Equal(
            [
                (-5_000L, 5_000L, 5, 0.0, 4.0), (0L, 10_000L, 10, 0.0, 9.0), (5_000L, 15_000L, 10, 5.0, 14.0),
                (10_000L, 20_000L, 10, 10.0, 19.0), (15_000L, 25_000L, 10, 15.0, 24.0), (20_000L, 30_000L, 10, 20.0, 29.0),
                (25_000L, 35_000L, 5, 25.0, 29.0),
            ],
            Describe(vectors));
    }

    [Fact]
    public void Time_windows_over_a_gap_are_not_emitted_empty()
    {
        var spec = new FeatureSpec { Window = WindowSpec.Time(10_000), Features = MinMaxMean };
        var vectors = Run(spec, [.. Series(0, 10), .. Series(55, 4), .. Series(1_000_000, 1)]);

        Assert.Equal(
            [(0L, 10_000L, 10, 0.0, 9.0), (50_000L, 60_000L, 4, 55.0, 58.0), (1_000_000_000L, 1_000_010_000L, 1, 1_000_000.0, 1_000_000.0)],
            Describe(vectors));
    }

    [Fact]
    public void A_sensor_without_readings_in_a_window_gives_NaN_for_its_features()
    {
        var spec = new FeatureSpec
        {
            Window = WindowSpec.Time(1_000),
            Features =
            [
                new() { Name = "a", Sensor = "a", Function = FeatureFunction.Mean },
                new() { Name = "b", Sensor = "b", Function = FeatureFunction.Mean },
            ],
        };
        var vectors = FeatureEngine.ComputeOffline(spec, [new("m", "a", 100, 1), new("m", "b", 1_100, 2)]);

        Assert.Equal(2, vectors.Count);
        Assert.True(float.IsNaN(vectors[0].Values[1]));
        Assert.True(float.IsNaN(vectors[1].Values[0]));
        Assert.Equal(2f, vectors[1].Values[1]);
    }

    [Fact]
    public void Readings_older_than_the_watermark_are_dropped_counted_and_metered()
    {
        using var meters = new TestMeterFactory();
        using var telemetry = new FeatureTelemetry(meters);
        long metered = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (meters.Meters.Contains(instrument.Meter) && instrument.Name == "pdm.features.late_readings")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref metered, value));
        listener.Start();

        var collector = new Collector();
        var spec = new FeatureSpec { Window = WindowSpec.Time(10_000, 0, 2_000), Features = MinMaxMean };
        var engine = new FeatureEngine(spec, collector.Handle, telemetry);
        var slot = engine.RegisterAsset("pump-7");
        foreach (var t in new long[] { 1_000, 5_000, 9_000 })
        {
            Assert.Equal(ReadingOutcome.Accepted, engine.Add(slot, 0, t, t / 1000.0));
        }

        Assert.Equal(ReadingOutcome.Accepted, engine.Add(slot, 0, 11_000, 11));   // W = 9 000: window [0, 10 000) stays open
        Assert.Empty(collector.Vectors);
        Assert.Equal(ReadingOutcome.Accepted, engine.Add(slot, 0, 9_500, 9.5));   // out of order, within the watermark
        Assert.Equal(ReadingOutcome.Accepted, engine.Add(slot, 0, 12_500, 12.5)); // W = 10 500: closes [0, 10 000)
        Assert.Single(collector.Vectors);
        Assert.Equal(ReadingOutcome.Late, engine.Add(slot, 0, 9_900, 99));        // its window is closed: late
        Assert.Equal(ReadingOutcome.Late, engine.Add(slot, 0, 10_400, 99));       // 10 400 < W = 10 500: late
        Assert.Equal(ReadingOutcome.Accepted, engine.Add(slot, 0, 10_500, 10.5)); // exactly W: accepted
        engine.Flush();

        Assert.Equal([(0L, 10_000L, 4, 1.0, 9.5), (10_000L, 20_000L, 3, 10.5, 12.5)], Describe(collector.Vectors));
        Assert.Equal(2, engine.LateReadings);
        Assert.Equal(2, engine.GetLateReadings(slot));
        listener.RecordObservableInstruments();
        Assert.Equal(2, Interlocked.Read(ref metered));
    }

    [Fact]
    public void An_out_of_order_reading_before_the_assets_first_reading_still_gets_its_own_window()
    {
        var spec = new FeatureSpec { Window = WindowSpec.Time(10_000, 0, 5_000), Features = MinMaxMean };

        var vectors = Run(spec,
        [
            new("m", "x", 100_000, 100), new("m", "x", 96_000, 96), new("m", "x", 103_000, 103),
            new("m", "x", 108_000, 108), new("m", "x", 112_000, 112),
        ]);

        Assert.Equal([(90_000L, 100_000L, 1, 96.0, 96.0), (100_000L, 110_000L, 3, 100.0, 108.0), (110_000L, 120_000L, 1, 112.0, 112.0)],
            Describe(vectors));
    }

    [Fact]
    public void A_count_window_waits_until_its_last_tick_is_behind_the_watermark()
    {
        var collector = new Collector();
        var engine = new FeatureEngine(new FeatureSpec { Window = WindowSpec.Count(3, 0, 2_000), Features = MinMaxMean }, collector.Handle);
        var slot = engine.RegisterAsset("m");
        engine.Add(slot, 0, 0, 0);
        engine.Add(slot, 0, 2_000, 2); // W = 0: no tick is final yet
        Assert.Equal(ReadingOutcome.Accepted, engine.Add(slot, 0, 1_000, 1)); // out of order: becomes tick 2
        engine.Add(slot, 0, 4_000, 4); // W = 2 000: ticks 0 and 1 000 are final
        Assert.Empty(collector.Vectors);
        engine.Add(slot, 0, 5_000, 5); // W = 3 000: tick 2 000 final → the first window closes
        Assert.Equal([(0L, 2_001L, 3, 0.0, 2.0)], Describe(collector.Vectors));
        Assert.Equal(ReadingOutcome.Late, engine.Add(slot, 0, 2_500, 9));
    }

    [Fact]
    public void Delta_from_baseline_learns_the_mean_of_the_assets_first_window()
    {
        var spec = new FeatureSpec
        {
            Window = WindowSpec.Count(3),
            Features =
            [
                new() { Name = "learned", Sensor = "x", Function = FeatureFunction.DeltaFromBaseline },
                new() { Name = "fixed", Sensor = "x", Function = FeatureFunction.DeltaFromBaseline, Baseline = 10 },
            ],
        };
        var readings = new double[] { 1, 2, 3, 4, 5, 9, 7, 8, 6 }
            .Select((v, i) => new FeatureReading("m", "x", i * 1000L, v))
            .Concat([new FeatureReading("n", "x", 0, 100), new FeatureReading("n", "x", 1, 100), new FeatureReading("n", "x", 2, 130)]);

        var vectors = FeatureEngine.ComputeOffline(spec, readings);

        Assert.Equal([1.0, 7.0, 4.0, 20.0], vectors.Select(v => v.ExactValues[0]));
        Assert.Equal([-7.0, -1.0, -4.0, 120.0], vectors.Select(v => v.ExactValues[1]));
    }

    [Fact]
    public void A_feature_window_looks_back_from_the_end_of_the_default_window()
    {
        var spec = new FeatureSpec
        {
            Window = WindowSpec.Count(2),
            Features =
            [
                new() { Name = "mean2", Sensor = "x", Function = FeatureFunction.Mean },
                new() { Name = "mean4", Sensor = "x", Function = FeatureFunction.Mean, Window = WindowSpec.Count(4) },
                new() { Name = "min_5s", Sensor = "x", Function = FeatureFunction.Min, Window = WindowSpec.Time(5_000) },
            ],
        };

        var vectors = Run(spec, Series(0, 8));

        // Windows end at ticks 1, 3, 5, 7 (t = 1 000 … 7 000); look-backs end there too.
        Assert.Equal([0.5, 2.5, 4.5, 6.5], vectors.Select(v => v.ExactValues[0]));
        Assert.Equal([0.5, 1.5, 3.5, 5.5], vectors.Select(v => v.ExactValues[1]));
        Assert.Equal([0.0, 0.0, 1.0, 3.0], vectors.Select(v => v.ExactValues[2]));
    }

    [Theory]
    [InlineData(WindowKind.Count)]
    [InlineData(WindowKind.Time)]
    public void The_same_vectors_come_out_whether_readings_arrive_in_order_or_shuffled_within_the_watermark(WindowKind kind)
    {
        const long watermark = 5_000;
        var window = kind == WindowKind.Count ? WindowSpec.Count(20, 3, watermark) : WindowSpec.Time(15_000, 4_000, watermark);
        var spec = new FeatureSpec
        {
            Window = window,
            Features = [.. AllFunctions("a"), .. AllFunctions("b")],
        };
        var random = new Random(1234);
        var ordered = new List<FeatureReading>();
        foreach (var asset in new[] { "m1", "m2", "m3" })
        {
            for (var i = 0; i < 400; i++)
            {
                var t = (i * 700L) + random.Next(0, 500);
                ordered.Add(new(asset, "a", t, Math.Sin(i / 10.0) + random.NextDouble()));
                ordered.Add(new(asset, "b", t + random.Next(0, 3), 50 + random.NextDouble()));
                if (i % 25 == 0)
                {
                    // Same sensor, same timestamp, another value: ties are ordered by value, not by arrival.
                    ordered.Add(new(asset, "a", t, random.NextDouble()));
                }
            }
        }

        // Arrival order = event time + a random delay below the watermark: each reading arrives before the watermark
        // passes it, so none is late, yet the order is thoroughly shuffled.
        var shuffled = ordered.Select(r => (Key: r.TimestampUnixMs + random.NextInt64(0, watermark), Reading: r))
            .OrderBy(p => p.Key).Select(p => p.Reading).ToList();
        Assert.NotEqual(ordered.Where(r => r.AssetId == "m1"), shuffled.Where(r => r.AssetId == "m1"));

        var a = FeatureEngine.ComputeOffline(spec, ordered);
        var b = FeatureEngine.ComputeOffline(spec, shuffled);

        Assert.True(a.Count > 100);
        foreach (var asset in new[] { "m1", "m2", "m3" })
        {
            Assert.Equal(a.Where(v => v.AssetId == asset), b.Where(v => v.AssetId == asset));
        }
    }

    [Theory]
    [InlineData(WindowKind.Count)]
    [InlineData(WindowKind.Time)]
    public void A_burst_that_shares_timestamps_gives_the_same_vectors_in_any_arrival_order(WindowKind kind)
    {
        // Hundreds of readings per millisecond (a fast publisher with millisecond device clocks): each new reading
        // sorts deep inside its tick, by sensor and value, far from the buffer's end.
        const long watermark = 50;
        var window = kind == WindowKind.Count ? WindowSpec.Count(7, 7, watermark) : WindowSpec.Time(3, 3, watermark);
        var spec = new FeatureSpec { Window = window, Features = [.. AllFunctions("a"), .. AllFunctions("b"), .. AllFunctions("c")] };
        var random = new Random(77);
        var ordered = new List<FeatureReading>();
        for (var tick = 0L; tick < 100; tick++)
        {
            for (var k = 0; k < 120; k++)
            {
                ordered.Add(new("m1", "abc"[k % 3].ToString(), tick, Math.Round(random.NextDouble() * 10, 1)));
            }
        }

        var shuffled = ordered.Select(r => (Key: r.TimestampUnixMs + random.NextInt64(0, watermark), Reading: r))
            .OrderBy(p => p.Key).Select(p => p.Reading).ToList();
        var reversedWithinTicks = ordered.GroupBy(r => r.TimestampUnixMs).SelectMany(g => g.Reverse()).ToList();

        var a = FeatureEngine.ComputeOffline(spec, ordered);
        Assert.True(a.Count >= 10);
        Assert.Equal(a, FeatureEngine.ComputeOffline(spec, shuffled));
        Assert.Equal(a, FeatureEngine.ComputeOffline(spec, reversedWithinTicks));
    }

    [Fact]
    public void Bad_readings_are_rejected_as_values_and_counted()
    {
        var engine = new FeatureEngine(new FeatureSpec { Window = WindowSpec.Count(2), Features = MinMaxMean }, (in FeatureVector _) => { });
        var slot = engine.RegisterAsset("m");

        Assert.Equal(ReadingOutcome.UnknownAsset, engine.Add(slot + 1, 0, 0, 1));
        Assert.Equal(ReadingOutcome.UnknownSensor, engine.Add(slot, 1, 0, 1));
        Assert.Equal(ReadingOutcome.UnknownSensor, engine.Add("m", "pressure", 0, 1));
        Assert.Equal(ReadingOutcome.NotFinite, engine.Add(slot, 0, 0, double.NaN));
        Assert.Equal(ReadingOutcome.NotFinite, engine.Add(slot, 0, 0, double.PositiveInfinity));
        Assert.Equal(5, engine.RejectedReadings);
        Assert.Equal(-1, engine.GetSensorIndex("pressure"));
    }

    [Fact]
    public void A_handler_that_calls_back_into_the_engine_is_stopped()
    {
        FeatureEngine? engine = null;
        engine = new FeatureEngine(new FeatureSpec { Window = WindowSpec.Count(1), Features = MinMaxMean },
            (in FeatureVector v) => engine!.Add(v.AssetSlot, 0, 99_999, 1));
        var slot = engine.RegisterAsset("m");
        engine.Add(slot, 0, 0, 1);

        Assert.Throws<InvalidOperationException>(() => engine.Add(slot, 0, 1, 1));
    }

    internal static IEnumerable<FeatureDefinition> AllFunctions(string sensor)
    {
        foreach (var function in Enum.GetValues<FeatureFunction>())
        {
            yield return new FeatureDefinition
            {
                Name = sensor + "_" + function,
                Sensor = sensor,
                Function = function,
                Alpha = function == FeatureFunction.Ewma ? 0.2 : null,
            };
        }
    }

    /// <summary>Readings value = second, one per second from <paramref name="firstSecond"/>.</summary>
    private static List<FeatureReading> Series(long firstSecond, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new FeatureReading("m", "x", (firstSecond + i) * 1000, firstSecond + i))];

    private static IReadOnlyList<FeatureVectorSnapshot> Run(FeatureSpec spec, IEnumerable<FeatureReading> readings) =>
        FeatureEngine.ComputeOffline(spec, readings);

    private static List<(long Start, long End, int Count, double Min, double Max)> Describe(IEnumerable<FeatureVectorSnapshot> vectors) =>
        [.. vectors.Select(v => (v.WindowStartUnixMs, v.WindowEndUnixMs, v.ReadingCount, v.ExactValues[0], v.ExactValues[1]))];
}
