using System.Diagnostics;
using System.Globalization;
using System.Text;
using PdM.ModelPackage;
using PdM.ModelPackage.Cards;

namespace PdM.Training;

/// <summary>A C-MAPSS RUL training run: features, grouped CV, final fit, package, model card, test predictions.</summary>
public sealed record CmapssRunOptions
{
    public required string TrainFile { get; init; }

    /// <summary>Optional test file: one prediction per unit at its last observed cycle.</summary>
    public string? TestFile { get; init; }

    public required string OutputDirectory { get; init; }

    public TreeTrainingOptions Training { get; init; } = CmapssDefaults.Training;

    public int WindowSize { get; init; } = 30;

    public int LongWindow { get; init; } = 100;

    public bool IncludeCycle { get; init; } = true;

    public int RulCap { get; init; } = CmapssTraining.DefaultRulCap;

    public int Folds { get; init; } = 5;

    /// <summary>Run id; default <c>{dataset}-{algorithm}-{yyyyMMddTHHmmssZ}</c>.</summary>
    public string? RunId { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>The hyperparameters chosen by grouped CV on train_FD001 (shared/PdM.Training/README.md).</summary>
public static class CmapssDefaults
{
    public static TreeTrainingOptions Training { get; } = new()
    {
        Task = TrainingTask.RulRegression,
        Algorithm = TreeAlgorithm.FastTree,
        NumberOfTrees = 400,
        NumberOfLeaves = 16,
        MinimumExampleCountPerLeaf = 40,
        LearningRate = 0.05,
        Seed = 42,
    };
}

public sealed record CmapssRunResult(
    string RunId,
    string RunDirectory,
    string PackageDirectory,
    string ModelCardPath,
    TrainingSet Set,
    TrainedTreeModel Model,
    RulCvResult? Cv,
    ModelManifest Manifest,
    TimeSpan TrainingTime,
    IReadOnlyDictionary<int, double>? TestPredictions);

public sealed record Ai4iRunOptions
{
    public required string DataFile { get; init; }

    public required string OutputDirectory { get; init; }

    public TreeTrainingOptions Training { get; init; } = Ai4iDefaults.Training;

    public int Folds { get; init; } = 5;

    public string? RunId { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>The hyperparameters chosen by stratified CV on ai4i2020.csv (shared/PdM.Training/README.md).</summary>
public static class Ai4iDefaults
{
    public static TreeTrainingOptions Training { get; } = new()
    {
        Task = TrainingTask.FailureClassification,
        Algorithm = TreeAlgorithm.FastTree,
        NumberOfTrees = 800,
        NumberOfLeaves = 8,
        MinimumExampleCountPerLeaf = 20,
        LearningRate = 0.03,
        Seed = 42,
    };
}

public sealed record Ai4iRunResult(
    string RunId,
    string RunDirectory,
    string PackageDirectory,
    string ModelCardPath,
    TrainingSet Set,
    TrainedTreeModel Model,
    ClassificationCvResult? Cv,
    ModelManifest Manifest,
    TimeSpan TrainingTime);

public static class TrainingRuns
{
    /// <summary>
    /// Runs C-MAPSS training end to end into <c>{output}/{runId}/</c>: <c>package/</c> (model.onnx, manifest.json),
    /// <c>model-card.md</c> and, with a test file, <c>rul_predictions_{dataset}.csv</c>. <paramref name="crossValidate"/>
    /// false skips the CV (e.g. a quick package build).
    /// </summary>
    public static CmapssRunResult RunCmapss(CmapssRunOptions options, TrainingTelemetry? telemetry = null, bool crossValidate = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Training.Validate();
        var created = options.Time.GetUtcNow();
        var train = CmapssDataset.Load(options.TrainFile);
        var runId = options.RunId ?? RunId(train.Name, options.Training, created);
        var runDir = Path.Combine(options.OutputDirectory, runId);
        var spec = CmapssTraining.DefaultSpec(options.WindowSize, options.IncludeCycle, options.LongWindow);

        var run = Fit(runId, runDir, created, () => CmapssTraining.BuildTrainingSet(train, spec, options.RulCap), options.Training, telemetry);
        var (set, model) = (run.Set, run.Model);
        var cv = crossValidate ? CrossValidation.Rul(set, options.Training, options.Folds, options.RulCap) : null;
        var (packageDir, manifest) = run.WritePackage(new PackageDescription
        {
            Name = "cmapss-" + train.Name.ToLowerInvariant().Replace("train_", string.Empty, StringComparison.Ordinal).Replace('_', '-') + "-rul",
            AssetClass = "turbofan",
            Thresholds = new DecisionThresholds { RulWatch = 50, RulAlert = 30, RulDanger = 15 },
            FailureMode = TrainingDefaults.RulFailureMode,
            TrainingRunId = runId,
            CreatedAt = created,
        }, cv, null);

        Dictionary<int, double>? predictions = null;
        var notes = new List<string>();
        if (options.TestFile is not null)
        {
            var test = CmapssDataset.Load(options.TestFile);
            var last = CmapssTraining.LastVectorPerUnit(test, spec);
            var rows = new List<float[]>(last.Values);
            var predicted = model.Predict(rows);
            predictions = [];
            var i = 0;
            foreach (var unit in last.Keys)
            {
                predictions[unit] = predicted[i++];
            }

            var csv = new StringBuilder("unit,rul\n");
            foreach (var unit in test.Units)
            {
                // A unit observed for fewer cycles than the window has no vector yet: predict the cap (no evidence of wear).
                var rul = predictions.TryGetValue(unit, out var p) ? p : options.RulCap;
                csv.Append(CultureInfo.InvariantCulture, $"{unit},{rul:F2}\n");
            }

            Directory.CreateDirectory(runDir);
            File.WriteAllText(Path.Combine(runDir, "rul_predictions_" + test.Name.Replace("test_", string.Empty, StringComparison.Ordinal) + ".csv"), csv.ToString());
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"Test file `{test.Name}` (sha256 `{test.Sha256}`): {predictions.Count} of {test.Units.Count} units predicted at their last observed cycle; the true RUL is held back."));
        }

        var cardPath = run.WriteModelCard(
            manifest,
            string.Create(CultureInfo.InvariantCulture,
                $"piecewise-linear RUL = min({options.RulCap}, T_fail − t), t = last cycle of the feature window{(options.IncludeCycle ? "; the cycle count is a feature" : string.Empty)}"),
            card => card with { RulCv = cv, Notes = notes });

        return new CmapssRunResult(runId, runDir, packageDir, cardPath, set, model, cv, manifest, run.TrainingTime, predictions);
    }

    /// <summary>Runs AI4I 2020 failure classification end to end into <c>{output}/{runId}/</c>.</summary>
    public static Ai4iRunResult RunAi4i(Ai4iRunOptions options, TrainingTelemetry? telemetry = null, bool crossValidate = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Training.Validate();
        var created = options.Time.GetUtcNow();
        var runId = options.RunId ?? RunId("ai4i2020", options.Training, created);
        var runDir = Path.Combine(options.OutputDirectory, runId);

        var run = Fit(runId, runDir, created, () => Ai4iTraining.BuildTrainingSet(Ai4iDataset.Load(options.DataFile), Ai4iTraining.DefaultSpec()), options.Training, telemetry);
        var (set, model) = (run.Set, run.Model);
        var cv = crossValidate ? CrossValidation.Classification(set, options.Training, options.Folds) : null;
        var (packageDir, manifest) = run.WritePackage(new PackageDescription
        {
            Name = "ai4i2020-failure",
            AssetClass = "milling-machine",
            Thresholds = new DecisionThresholds { FailureProbabilityWatch = 0.3, FailureProbabilityAlert = 0.5, FailureProbabilityDanger = 0.8 },
            FailureMode = TrainingDefaults.FailureClassificationMode,
            TrainingRunId = runId,
            CreatedAt = created,
        }, null, cv);

        var cardPath = run.WriteModelCard(
            manifest,
            "`Machine failure` (failure-mode columns TWF, HDF, PWF, OSF, RNF excluded from the features)",
            card => card with { ClassificationCv = cv });

        return new Ai4iRunResult(runId, runDir, packageDir, cardPath, set, model, cv, manifest, run.TrainingTime);
    }

    /// <summary>Builds the training set and fits the model on it, timed together: the training time telemetry and the model card report.</summary>
    private static FittedRun Fit(
        string runId, string runDirectory, DateTimeOffset created, Func<TrainingSet> buildSet, TreeTrainingOptions training, TrainingTelemetry? telemetry)
    {
        var stopwatch = Stopwatch.StartNew();
        var set = buildSet();
        var model = TreeModelTrainer.Train(set, training);
        var trainingTime = stopwatch.Elapsed;
        telemetry?.RunCompleted(training, trainingTime);
        return new FittedRun(runId, runDirectory, created, set, model, trainingTime);
    }

    /// <summary>A run's fitted model and what its package and model card are written from.</summary>
    private sealed record FittedRun(string RunId, string RunDirectory, DateTimeOffset Created, TrainingSet Set, TrainedTreeModel Model, TimeSpan TrainingTime)
    {
        /// <summary>Writes the model package into <c>{run}/package/</c>, with the figures of its card.</summary>
        public (string PackageDirectory, ModelManifest Manifest) WritePackage(PackageDescription description, RulCvResult? rulCv, ClassificationCvResult? classificationCv)
        {
            var packageDir = Path.Combine(RunDirectory, "package");
            var manifest = ModelPackageWriter.Write(packageDir, Model, Set, description);
            ModelCardFigures.WriteInto(packageDir, TrainingCards.Build(manifest, Set, Model, rulCv, classificationCv, "PdM training run " + RunId));
            return (packageDir, manifest);
        }

        /// <summary>Writes <c>{run}/model-card.md</c> for <paramref name="manifest"/>'s package, <paramref name="complete"/> adding the task's figures; returns its path.</summary>
        public string WriteModelCard(ModelManifest manifest, string labelDefinition, Func<ModelCard, ModelCard> complete)
        {
            var cardPath = Path.Combine(RunDirectory, "model-card.md");
            File.WriteAllText(cardPath, ModelCardWriter.Render(complete(new ModelCard
            {
                Title = manifest.Name + " " + manifest.Version,
                RunId = RunId,
                CreatedAt = Created,
                Set = Set,
                Model = Model,
                LabelDefinition = labelDefinition,
                TrainingTime = TrainingTime,
            })));
            return cardPath;
        }
    }

    private static string RunId(string dataset, TreeTrainingOptions options, DateTimeOffset created) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{dataset.ToLowerInvariant().Replace('_', '-')}-{options.Algorithm.ToString().ToLowerInvariant()}-{created.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}");
}
