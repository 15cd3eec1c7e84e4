using PdM.Benchmarks.Stream;
using PdM.Features;
using PdM.ModelPackage;
using PdM.Training;

namespace PdM.Benchmarks.Inference;

/// <summary>
/// A realistic tree ensemble for the benchmark (FastTree, 100 trees, 32 leaves, 16 features: mean and std of each of
/// the bench stream's eight sensors over the per-message scenario's 10-message window), trained here on windows drawn
/// from the stream itself, so every window the gateway scores is in distribution and healthy. Seeded: the same model
/// every run.
/// </summary>
internal static class BenchModel
{
    public const string AssetClass = "bench-pump";

    public static (string PackageDirectory, FeatureSpec Spec, float[][] Rows) Build(string directory, FeatureSpec spec)
    {
        var sensors = BenchPlant.Sensors;
        var random = new Random(42);
        var examples = new List<TrainingExample>(20_000);
        var rows = new float[20_000][];
        var window = new double[10];
        for (var i = 0; i < rows.Length; i++)
        {
            var asset = random.Next(10);
            var k = random.Next(1_000_000);
            var row = new float[sensors.Count * 2];
            for (var s = 0; s < sensors.Count; s++)
            {
                for (var j = 0; j < window.Length; j++)
                {
                    window[j] = BenchPlant.Value(asset, k + j, s);
                }

                row[2 * s] = (float)FeatureMath.Mean(window);
                row[(2 * s) + 1] = (float)FeatureMath.Std(window);
            }

            // A synthetic remaining life that the trees must learn from several features; always well above the watch limit.
            var z0 = (row[0] - sensors[0].Base) / sensors[0].Spread;
            var z1 = (row[2] - sensors[1].Base) / sensors[1].Spread;
            var z4 = (row[8] - sensors[4].Base) / sensors[4].Spread;
            var rul = 150 - (30 * z0) - (20 * z1) + (10 * z4) - (40 * row[1]) + (5 * random.NextDouble());
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
