namespace PdM.Features.Tests;

/// <summary>The per-reading hot path allocates nothing once buffers have reached their steady-state size.</summary>
public sealed class FeatureEngineAllocationTests
{
    private double _sink;

    [Theory]
    [InlineData(WindowKind.Count)]
    [InlineData(WindowKind.Time)]
    public void One_hundred_thousand_Adds_with_emitted_windows_and_late_readings_allocate_zero_bytes(WindowKind kind)
    {
        var window = kind == WindowKind.Count ? WindowSpec.Count(30, 1, 2_000) : WindowSpec.Time(30_000, 5_000, 2_000);
        var spec = new FeatureSpec
        {
            Window = window,
            Features =
            [
                .. FeatureEngineWindowTests.AllFunctions("a"),
                .. FeatureEngineWindowTests.AllFunctions("b"),
                new() { Name = "b_mean_long", Sensor = "b", Function = FeatureFunction.Mean, Window = WindowSpec.Time(120_000) },
            ],
        };
        using var meters = new TestMeterFactory();
        using var telemetry = new FeatureTelemetry(meters);
        var emitted = 0;
        var engine = new FeatureEngine(spec, Handle, telemetry);
        var slots = new[] { engine.RegisterAsset("m1"), engine.RegisterAsset("m2"), engine.RegisterAsset("m3") };

        var t = 0L;
        void Feed(int readings)
        {
            for (var i = 0; i < readings; i++)
            {
                var slot = slots[i % 3];
                if (slot == 0)
                {
                    t += 1_000;
                }

                // Out of order by up to 1.5 s (within the watermark), and every 97th reading far too late.
                var ts = i % 97 == 0 ? t - 10_000 : t - (i % 4 * 500);
                engine.Add(slot, i & 1, ts, Math.Sin(i * 0.01) + (slot * 10));
            }
        }

        Feed(50_000);
        var emittedBefore = engine.VectorsEmitted;
        var lateBefore = engine.LateReadings;
        var before = GC.GetAllocatedBytesForCurrentThread();
        Feed(100_000);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(engine.VectorsEmitted - emittedBefore > 1_000, "windows were emitted during the measurement");
        Assert.True(engine.LateReadings > lateBefore, "late readings were exercised");
        Assert.True(emitted > 0);
        Assert.Equal(0, allocated);

        void Handle(in FeatureVector vector)
        {
            emitted++;
            _sink += vector.Values[0];
        }
    }
}
