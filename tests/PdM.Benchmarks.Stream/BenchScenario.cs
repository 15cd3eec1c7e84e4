using PdM.Features;

namespace PdM.Benchmarks.Stream;

/// <summary>
/// What the gateway computes on the bench stream, and the number of decisions that must come out of it: a run that
/// decides more or less than <see cref="ExpectedDecisions"/> fails. Every scenario reads all eight sensors.
/// </summary>
public sealed class BenchScenario
{
    private BenchScenario(string name, FeatureSpec spec)
    {
        spec.Validate();
        if (spec.Window.WatermarkMs != 0 || (spec.Window.Kind == WindowKind.Time && !spec.Window.IsTumbling))
        {
            // ExpectedDecisions counts windows for these shapes only; anything else would need its own arithmetic.
            throw new ArgumentException("bench scenarios use watermark 0 and, for time windows, tumbling windows", nameof(spec));
        }

        Name = name;
        Spec = spec;
    }

    public string Name { get; }

    public FeatureSpec Spec { get; }

    /// <summary>
    /// No decisions: one hour-long time window that the stream (shorter than an hour, from an hour boundary) never
    /// closes. Every reading still goes through decode, validation and the feature engine's buffer: the ingest
    /// reference that <c>cpu_vs_ingest</c> divides by.
    /// </summary>
    public static BenchScenario Ingest() => new("ingest", SpecOf(WindowSpec.Time(3_600_000), MeanAndStd()));

    /// <summary>A decision per message: a count window of 10 messages, hop 1, mean and std of every sensor (16 features).</summary>
    public static BenchScenario PerMessage() => new("per-message", SpecOf(WindowSpec.Count(10, 1), MeanAndStd()));

    /// <summary>
    /// A decision per asset per second of device time: 1 s tumbling windows (100 messages each at the default step)
    /// that really close during the drain; the pump ruleset's signals as <c>last</c>, then max, slope, mean and std.
    /// </summary>
    public static BenchScenario PerWindow()
    {
        var features = new List<FeatureDefinition>
        {
            new() { Name = "vibration_rms_mm_s", Sensor = "vibration_rms_mm_s", Function = FeatureFunction.Last },
            new() { Name = "bearing_temperature_c", Sensor = "bearing_temperature_c", Function = FeatureFunction.Last },
            new() { Name = "discharge_pressure_bar", Sensor = "discharge_pressure_bar", Function = FeatureFunction.Last },
            new() { Name = "vib_max", Sensor = "vibration_rms_mm_s", Function = FeatureFunction.Max },
            new() { Name = "vib_slope", Sensor = "vibration_rms_mm_s", Function = FeatureFunction.Slope },
            new() { Name = "temp_slope", Sensor = "bearing_temperature_c", Function = FeatureFunction.Slope },
        };
        features.AddRange(MeanAndStd());
        return new("per-window", SpecOf(WindowSpec.Time(1_000), features));
    }

    /// <summary>The 16 features the bench model is trained on: <c>{sensor}_mean</c> and <c>{sensor}_std</c> per sensor.</summary>
    public static IReadOnlyList<FeatureDefinition> MeanAndStd()
    {
        var features = new List<FeatureDefinition>();
        foreach (var sensor in BenchPlant.Sensors)
        {
            features.Add(new FeatureDefinition { Name = sensor.Id + "_mean", Sensor = sensor.Id, Function = FeatureFunction.Mean });
            features.Add(new FeatureDefinition { Name = sensor.Id + "_std", Sensor = sensor.Id, Function = FeatureFunction.Std });
        }

        return features;
    }

    /// <summary>
    /// Windows the gateway must close on <paramref name="stream"/>, by the engine's rules with watermark 0: an asset's
    /// watermark is its latest device time, so its last tick never becomes final (count windows), and a time window
    /// closes once that watermark reaches its end.
    /// </summary>
    public long ExpectedDecisions(BenchPlant stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long total = 0;
        var window = Spec.Window;
        for (var a = 0; a < stream.Assets; a++)
        {
            var messages = stream.MessagesOf(a);
            if (messages == 0)
            {
                continue;
            }

            if (window.Kind == WindowKind.Count)
            {
                var finalTicks = messages - 1L;
                total += finalTicks < window.Size ? 0 : ((finalTicks - window.Size) / window.EffectiveHop) + 1;
                continue;
            }

            var watermark = stream.DeviceTime(a, messages - 1);
            var previous = long.MinValue;
            for (var k = 0; k < messages; k++)
            {
                var index = Math.DivRem(stream.DeviceTime(a, k), window.LengthMs, out var rest) - (rest < 0 ? 1 : 0);
                if (index != previous && (index + 1) * window.LengthMs <= watermark)
                {
                    total++;
                }

                previous = index;
            }
        }

        return total;
    }

    private static FeatureSpec SpecOf(WindowSpec window, IReadOnlyList<FeatureDefinition> features) =>
        new() { Window = window, Features = features };
}
