using PdM.Features;
using PdM.ModelPackage;
using PdM.Training;

namespace PdM.Benchmarks.Inference;

/// <summary>
/// A realistic tree ensemble for the benchmark (FastTree, 100 trees, 32 leaves, 16 features), trained here on
/// synthetic windows of the same eight pump sensors the ingest benchmark publishes, so the same package serves the
/// scoring micro-benchmark and the end-to-end run. Seeded: the same model every run.
/// </summary>
internal static class BenchModel
{
    public const string AssetClass = "bench-pump";

    public static readonly string[] Sensors =
    [
        "vibration_rms_mm_s", "bearing_temperature_c", "motor_current_a", "suction_pressure_bar",
        "discharge_pressure_bar", "flow_m3_h", "speed_rpm", "casing_temp_c",
    ];

    public static (string PackageDirectory, FeatureSpec Spec, float[][] Rows) Build(string directory)
    {
        var features = new List<FeatureDefinition>();
        foreach (var sensor in Sensors)
        {
            features.Add(new FeatureDefinition { Name = sensor + "_mean", Sensor = sensor, Function = FeatureFunction.Mean });
            features.Add(new FeatureDefinition { Name = sensor + "_std", Sensor = sensor, Function = FeatureFunction.Std });
        }

        var spec = new FeatureSpec { Window = WindowSpec.Count(10, 10, 0), Features = features };
        var random = new Random(42);
        var examples = new List<TrainingExample>(20_000);
        var rows = new float[20_000][];
        for (var i = 0; i < rows.Length; i++)
        {
            // The ingest stream's values lie in [2, 4): means there, spreads up to 0.6.
            var row = new float[features.Count];
            for (var f = 0; f < row.Length; f += 2)
            {
                row[f] = (float)(2 + (2 * random.NextDouble()));
                row[f + 1] = (float)(0.6 * random.NextDouble());
            }

            var rul = Math.Max(0, 200 - (60 * (row[0] - 2)) - (40 * row[1]) - (15 * (row[4] - 2)) + (10 * random.NextDouble()));
            rows[i] = row;
            examples.Add(new TrainingExample($"unit-{i % 100}", i, row, (float)rul, rul));
        }

        var set = new TrainingSet(spec, examples, "bench-synthetic", new string('0', 64));
        var model = TreeModelTrainer.Train(set, new TreeTrainingOptions { NumberOfTrees = 100, NumberOfLeaves = 32, Seed = 42, Threads = 1 });
        var packageDirectory = Path.Combine(directory, "bench-rul");
        ModelPackageWriter.Write(packageDirectory, model, set, new PackageDescription
        {
            Name = "bench-rul",
            AssetClass = AssetClass,
            Thresholds = new DecisionThresholds { RulWatch = 60, RulAlert = 30, RulDanger = 10 },
            TrainingRunId = "bench-inference",
            CreatedAt = DateTimeOffset.UnixEpoch,
        });
        return (packageDirectory, spec, rows);
    }
}
