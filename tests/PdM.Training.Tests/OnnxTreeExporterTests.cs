using Microsoft.ML.OnnxRuntime;
using PdM.ModelPackage;

namespace PdM.Training.Tests;

public sealed class OnnxTreeExporterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pdm-training-onnx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static float[] RunOnnx(byte[] model, IReadOnlyList<float[]> rows, string output)
    {
        using var options = ModelPackageLoadOptions.DefaultSessionOptions();
        using var session = new InferenceSession(model, options);
        var features = rows[0].Length;
        var flat = new float[rows.Count * features];
        for (var i = 0; i < rows.Count; i++)
        {
            rows[i].CopyTo(flat, i * features);
        }

        using var input = OrtValue.CreateTensorValueFromMemory(flat, [rows.Count, features]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["features"], [input], [output]);
        var shape = results[0].GetTensorTypeAndShape().Shape;
        Assert.Equal([rows.Count, 1L], shape);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private void AssertParityAndChecker(TrainingSet set, TreeTrainingOptions options, string output)
    {
        var model = TreeModelTrainer.Train(set, options);
        var onnx = OnnxTreeExporter.Export(model.Ensemble, new OnnxExportOptions { OutputName = output });
        var rows = set.FeatureMatrix();
        var expected = model.Predict(rows);
        var actual = RunOnnx(onnx, rows, output);

        // Every training row, not a sample.
        Assert.Equal(rows.Length, actual.Length);
        var worst = 0.0;
        var worstRow = -1;
        for (var i = 0; i < rows.Length; i++)
        {
            var d = Math.Abs(actual[i] - expected[i]);
            if (!(d <= worst))
            {
                worst = d;
                worstRow = i;
            }
        }

        Assert.True(worst <= 1e-4, $"row {worstRow}: ONNX {(worstRow >= 0 ? actual[worstRow] : 0)} vs ML.NET {(worstRow >= 0 ? expected[worstRow] : 0)}");

        var file = Path.Combine(_dir, options.Algorithm + "-" + options.Task + ".onnx");
        File.WriteAllBytes(file, onnx);
        var (ok, text) = OnnxChecker.Check(file);
        Assert.True(ok, "onnx.checker rejected the export: " + text);
    }

    [Theory]
    [InlineData(TreeAlgorithm.FastTree)]
    [InlineData(TreeAlgorithm.LightGbm)]
    public void Rul_regressor_matches_mlnet_on_every_training_row_and_passes_the_checker(TreeAlgorithm algorithm) =>
        AssertParityAndChecker(TestData.Fd001Subset(25), TestData.SmallRegression(algorithm), ModelPackageWriter.RulOutput);

    [Theory]
    [InlineData(TreeAlgorithm.FastTree)]
    [InlineData(TreeAlgorithm.LightGbm)]
    public void Failure_classifier_matches_mlnet_on_every_training_row_and_passes_the_checker(TreeAlgorithm algorithm) =>
        AssertParityAndChecker(Ai4iTraining.BuildTrainingSet(TestData.Ai4i, Ai4iTraining.DefaultSpec()), TestData.SmallClassifier(algorithm),
            ModelPackageWriter.ProbabilityOutput);

    // A sensor that sent nothing in a window makes its features NaN, and such windows reach the feature store. FastTree
    // (the default algorithm of both shipped trainings) sends NaN right at every split, as ONNX's TreeEnsemble does by
    // default. LightGBM learns a side per split, which ML.NET keeps out of its public tree API: exported without it,
    // the LightGBM case disagreed on those rows (101.2 vs 112.5 cycles); each node's side is now exported.
    [Theory]
    [InlineData(TreeAlgorithm.FastTree)]
    [InlineData(TreeAlgorithm.LightGbm)]
    public void Rows_with_a_missing_sensor_NaN_train_and_the_export_agrees_with_mlnet_on_them(TreeAlgorithm algorithm) =>
        AssertParityAndChecker(WithMissingSensor(TestData.Fd001Subset(25)), TestData.SmallRegression(algorithm), ModelPackageWriter.RulOutput);

    [Fact]
    public void A_lightgbm_model_trained_with_a_missing_sensor_sends_NaN_left_at_some_splits_and_the_export_says_so()
    {
        // Guards the case above: it proves something only if LightGBM did route missing values left somewhere.
        var model = TreeModelTrainer.Train(WithMissingSensor(TestData.Fd001Subset(25)), TestData.SmallRegression(TreeAlgorithm.LightGbm));
        var left = model.Ensemble.Trees.Sum(t => t.MissingGoesLeft?.Count(l => l) ?? 0);
        Assert.True(left > 0, "no split sends a missing value left");

        var proto = PdM.ModelPackage.Onnx.ModelProto.Parser.ParseFrom(OnnxTreeExporter.Export(model.Ensemble, new OnnxExportOptions { OutputName = "y" }));
        var tracksTrue = proto.Graph.Node.Single(n => n.OpType == "TreeEnsembleRegressor").Attribute.Single(a => a.Name == "nodes_missing_value_tracks_true");
        Assert.Equal(left, tracksTrue.Ints.Count(v => v == 1));
    }

    /// <summary>Every tenth row with every fourth feature NaN, as a window where one sensor of four sent nothing.</summary>
    private static TrainingSet WithMissingSensor(TrainingSet set) =>
        new(set.Spec, [.. set.Examples.Select((e, i) => i % 10 == 3
                ? e with { Features = [.. e.Features.Select((v, f) => f % 4 == 1 ? float.NaN : v)], ExactFeatures = null }
                : e)],
            set.DatasetName, set.DatasetSha256, set.Derived);

    [Fact]
    public void Checker_rejects_a_broken_model()
    {
        // Guards the checker test itself: the same graph without its ai.onnx.ml opset import must not pass.
        var trees = new TreeEnsembleModel([new TreeModel([-1], [-2], [0], [1f], [1, 2])], [1.0], 0, FeatureCount: 3, Calibration: null);
        var proto = PdM.ModelPackage.Onnx.ModelProto.Parser.ParseFrom(OnnxTreeExporter.Export(trees, new OnnxExportOptions { OutputName = "y" }));
        proto.OpsetImport.RemoveAt(1);
        var file = Path.Combine(_dir, "broken.onnx");
        File.WriteAllBytes(file, Google.Protobuf.MessageExtensions.ToByteArray(proto));
        var (ok, _) = OnnxChecker.Check(file);
        Assert.False(ok);
    }

    [Fact]
    public void Single_leaf_trees_and_bias_are_exported()
    {
        var trees = new TreeEnsembleModel(
            [new TreeModel([], [], [], [], [2.5]), new TreeModel([1, -1], [-2, -3], [0, 1], [0.5f, -1f], [10, 20, 30])],
            [1.0, 0.5], Bias: 100, FeatureCount: 2, Calibration: null);
        var onnx = OnnxTreeExporter.Export(trees, new OnnxExportOptions { OutputName = "y" });
        float[][] rows = [[0f, 0f], [0.5f, -1f], [0.5f, -0.5f], [1f, 0f]];
        var actual = RunOnnx(onnx, rows, "y");
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.Equal(trees.RawScore(rows[i]), actual[i], 5);
        }

        // Bias 100 + single leaf 2.5 + 0.5 × the second tree: x0 ≤ 0.5 → node 1, then x1 ≤ −1 → leaf 0 (10),
        // else leaf 2 (30); x0 > 0.5 → leaf 1 (20). Ties go left (BRANCH_LEQ, as ML.NET's ≤).
        Assert.Equal(117.5f, actual[0], 5);
        Assert.Equal(107.5f, actual[1], 5);
        Assert.Equal(117.5f, actual[2], 5);
        Assert.Equal(112.5f, actual[3], 5);
    }
}
