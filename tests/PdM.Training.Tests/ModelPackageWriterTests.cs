using System.Text;
using PdM.ModelPackage;

namespace PdM.Training.Tests;

public sealed class ModelPackageWriterTests : IDisposable
{
    private static readonly DateTimeOffset s_created = new(2026, 11, 25, 3, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("pdm-training-pkg-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PackageDescription Description(string assetClass, DecisionThresholds thresholds) => new()
    {
        Name = "test-model",
        AssetClass = assetClass,
        Thresholds = thresholds,
        TrainingRunId = "run-123",
        CreatedAt = s_created,
    };

    [Fact]
    public void Rul_package_loads_through_the_package_loader_and_its_golden_vectors_reproduce()
    {
        var set = TestData.Fd001Subset(10);
        var model = TreeModelTrainer.Train(set, TestData.SmallRegression());
        var dir = Path.Combine(_dir, "rul");
        var written = ModelPackageWriter.Write(dir, model, set, Description("turbofan", new DecisionThresholds { RulWatch = 50, RulAlert = 30 }));

        var result = ModelPackageLoader.Load(dir);
        Assert.True(result.Succeeded, result.Rejection?.ToString());
        using var package = result.Package!;
        Assert.Equal(set.Spec, package.FeatureSpec); // the spec that computed the training features travels with the model
        Assert.Equal(set.FeatureCount, package.FeatureCount);
        Assert.Equal("sha256:" + TestData.Fd001.Sha256, package.Manifest.Provenance.DatasetDigest);
        Assert.Equal("run-123", package.Manifest.Provenance.TrainingRun);
        Assert.Equal(8, package.Manifest.GoldenVectors.Cases.Count);
        Assert.Equal(OutputMeaning.RulCycles, package.Manifest.Outputs[0].Meaning);
        Assert.Equal(written.FeatureStatistics.Select(s => s.Name), set.FeatureNames);

        // The training distribution travels with the model (what the gateway's drift monitor compares with): decile
        // bins of the training rows, each holding about a tenth of them for a continuous feature.
        var distribution = package.Manifest.TrainingDistribution!;
        Assert.Equal(set.FeatureNames, distribution.Features.Select(d => d.Name));
        Assert.All(distribution.Features, d => Assert.Equal(1.0, d.Proportions.Sum(), 9));
        Assert.Contains(distribution.Features, d => d.Proportions.Count == TrainingDistribution.DefaultBins && d.Proportions.All(p => p is > 0.05 and < 0.15));

        // The golden vectors reproduce on the loaded session (the loader checked; check the figures ourselves too).
        var golden = package.Manifest.GoldenVectors.Cases;
        var actual = OnnxTreeExporterTests.RunOnnx(File.ReadAllBytes(Path.Combine(dir, "model.onnx")), golden.Select(c => c.Input.ToArray()).ToList(), "rul");
        for (var i = 0; i < golden.Count; i++)
        {
            Assert.Equal(golden[i].Outputs["rul"][0], actual[i], 4);
        }
    }

    [Fact]
    public void A_package_whose_golden_vectors_disagree_is_refused()
    {
        var set = TestData.Fd001Subset(5);
        var model = TreeModelTrainer.Train(set, TestData.SmallRegression());
        var dir = Path.Combine(_dir, "tampered");
        ModelPackageWriter.Write(dir, model, set, Description("turbofan", new DecisionThresholds { RulAlert = 30 }));
        var manifestPath = Path.Combine(dir, "manifest.json");
        var manifest = File.ReadAllText(manifestPath, Encoding.UTF8);
        var marker = "\"rul\": [";
        var at = manifest.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        File.WriteAllText(manifestPath, manifest[..at] + "\n 999" + manifest[manifest.IndexOf(']', at)..]);

        var result = ModelPackageLoader.Load(dir);
        Assert.False(result.Succeeded);
        Assert.Equal(PackageRejectionReason.GoldenVectorMismatch, result.Rejection!.Reason);
    }

    [Fact]
    public void Classifier_package_loads_with_a_failure_probability_output()
    {
        var set = Ai4iTraining.BuildTrainingSet(TestData.Ai4i, Ai4iTraining.DefaultSpec());
        var model = TreeModelTrainer.Train(set, TestData.SmallClassifier());
        var dir = Path.Combine(_dir, "cls");
        ModelPackageWriter.Write(dir, model, set, Description("milling-machine", new DecisionThresholds { FailureProbabilityAlert = 0.5 }));

        var result = ModelPackageLoader.Load(dir);
        Assert.True(result.Succeeded, result.Rejection?.ToString());
        using var package = result.Package!;
        Assert.Equal(OutputMeaning.FailureProbability, package.Manifest.Outputs[0].Meaning);
        Assert.Equal("sha256:59db4f1d9c34c58136d89e5a006ec190dcea19e9dbea74f6b3b0c6f22a44d183", package.Manifest.Provenance.DatasetDigest);
        Assert.All(package.Manifest.GoldenVectors.Cases, c => Assert.InRange(c.Outputs["failure_probability"][0], 0, 1));
    }

    [Fact]
    public void Cmapss_run_writes_package_model_card_and_test_predictions()
    {
        var run = TrainingRuns.RunCmapss(new CmapssRunOptions
        {
            TrainFile = TestData.TrainFd001,
            TestFile = TestData.TestFd001,
            OutputDirectory = _dir,
            Training = TestData.SmallRegression() with { NumberOfTrees = 20 },
            RunId = "fd001-test-run",
        });

        Assert.Equal(Path.Combine(_dir, "fd001-test-run"), run.RunDirectory);
        var load = ModelPackageLoader.Load(run.PackageDirectory);
        Assert.True(load.Succeeded, load.Rejection?.ToString());
        load.Package!.Dispose();

        var card = File.ReadAllText(run.ModelCardPath);
        Assert.Contains("<svg", card, StringComparison.Ordinal);
        Assert.Equal(100, System.Text.RegularExpressions.Regex.Count(card, "<circle"));
        Assert.Contains("Feature importance", card, StringComparison.Ordinal);
        Assert.Contains("963b5e22825b34d8b21c69e1aeb4af3e647050eb672ee8834ba4b5d91d2de0f8", card, StringComparison.Ordinal);
        Assert.Contains("min(125, T_fail − t)", card, StringComparison.Ordinal);

        // The package carries the card the registry serves: the same 100 held-out engines, bands and importance.
        var document = PdM.ModelPackage.Cards.ModelCardDocument.Parse(File.ReadAllBytes(Path.Combine(run.PackageDirectory, "model-card.json"))).Card!;
        Assert.Equal(100, document.Regression!.Rows);
        Assert.Equal(100, document.Regression.Bands.Sum(b => b.Rows));
        Assert.Equal(run.Cv!.Rmse, document.Regression.Rmse, 6);
        Assert.Equal(1.0, document.FeatureImportance![0].Importance);
        Assert.Equal(100, System.Text.RegularExpressions.Regex.Count(File.ReadAllText(Path.Combine(run.PackageDirectory, "card", "predicted-vs-actual.svg")), "<circle class=\"mark\""));

        var csv = File.ReadAllLines(Path.Combine(run.RunDirectory, "rul_predictions_FD001.csv"));
        Assert.Equal("unit,rul", csv[0]);
        Assert.Equal(101, csv.Length);
        Assert.StartsWith("1,", csv[1], StringComparison.Ordinal);
        Assert.StartsWith("100,", csv[100], StringComparison.Ordinal);
        Assert.Equal(100, run.TestPredictions!.Count);
    }
}
