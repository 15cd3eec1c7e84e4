using System.Diagnostics;
using System.Globalization;
using PdM.Contracts.Decisions;
using PdM.Rules;
using PdM.Training;

// make bench-models: C-MAPSS FD001 grouped 5-fold CV and test predictions, AI4I 2020 model vs the physics ruleset,
// FD001 training time. Usage: [--true-rul RUL_FD001.txt] [--out DIR] [--predictions FILE]
var trueRulFile = Option("--true-rul");
var root = RepositoryRoot();
var output = Option("--out") ?? Path.Combine(root, "artifacts", "bench-models");
var predictionsFile = Option("--predictions") ?? Path.GetFullPath("rul_predictions_FD001.csv");
var c = CultureInfo.InvariantCulture;

// --- C-MAPSS FD001 -------------------------------------------------------------------------------------------------
var total = Stopwatch.StartNew();
var fd001 = TrainingRuns.RunCmapss(new CmapssRunOptions
{
    TrainFile = Path.Combine(root, "datasets", "cmapss", "train_FD001.txt"),
    TestFile = Path.Combine(root, "datasets", "cmapss", "test_FD001.txt"),
    OutputDirectory = output,
});
var cv = fd001.Cv!;
File.Copy(Path.Combine(fd001.RunDirectory, "rul_predictions_FD001.csv"), predictionsFile, overwrite: true);
Console.WriteLine(string.Create(c, $"FD001 {fd001.Model.Options}"));
Console.WriteLine(string.Create(c, $"FD001 features: {fd001.Set.FeatureCount} ({fd001.Set.Spec.Window}, cycle count included), {fd001.Set.Examples.Count} training vectors, RUL cap {cv.RulCap}"));
Console.WriteLine(string.Create(c, $"FD001 CV: {cv.CutRule}"));
Console.WriteLine(string.Create(c, $"FD001 CV: RMSE {cv.Rmse:F2}  PHM08 score {cv.Score:F1}  (all held-out windows vs capped label: RMSE {cv.AllWindowsRmse:F2})"));
Console.WriteLine(string.Create(c, $"FD001 training (features + final fit, 1 thread): {fd001.TrainingTime.TotalSeconds:F1} s"));
Console.WriteLine("FD001 test predictions: " + predictionsFile + " (" + fd001.TestPredictions!.Count.ToString(c) + " units)");
Console.WriteLine("FD001 package: " + fd001.PackageDirectory + "  model card: " + fd001.ModelCardPath);
if (trueRulFile is not null)
{
    var truth = CmapssTraining.ReadTrueRul(trueRulFile);
    var predicted = new double[truth.Count];
    var actual = new double[truth.Count];
    for (var i = 0; i < truth.Count; i++)
    {
        actual[i] = truth[i];
        predicted[i] = fd001.TestPredictions.TryGetValue(i + 1, out var p) ? p : cv.RulCap;
    }

    Console.WriteLine(string.Create(c,
        $"FD001 test ({truth.Count} units, {trueRulFile}): RMSE {RulMetrics.Rmse(predicted, actual):F2}  PHM08 score {RulMetrics.Phm08Score(predicted, actual):F1}"));
}

// --- AI4I 2020 -----------------------------------------------------------------------------------------------------
var ai4iFile = Path.Combine(root, "datasets", "ai4i2020", "ai4i2020.csv");
var ai4i = TrainingRuns.RunAi4i(new Ai4iRunOptions { DataFile = ai4iFile, OutputDirectory = output });
var m = ai4i.Cv!.Metrics;
Console.WriteLine(string.Create(c, $"AI4I {ai4i.Model.Options}"));
Console.WriteLine(string.Create(c,
    $"AI4I model, stratified 5-fold CV: precision {m.Precision:F4} recall {m.Recall:F4} F1 {m.F1:F4} PR-AUC {m.PrAuc:F4} (TP {m.TruePositives} FP {m.FalsePositives} FN {m.FalseNegatives} TN {m.TrueNegatives})"));
var rules = RulesF1(ai4iFile);
Console.WriteLine(string.Create(c,
    $"AI4I physics ruleset (milling-machine, all rows, failure = any rule fired): precision {rules.Precision:F4} recall {rules.Recall:F4} F1 {rules.F1:F4}"));

// --- Feature store (issue 7, item 8) -------------------------------------------------------------------------------
await FeatureStoreBenchmark.RunAsync();
Console.WriteLine(string.Create(c, $"total {total.Elapsed.TotalSeconds:F1} s"));
Console.WriteLine(string.Create(c,
    $"models: fd001_cv_rmse={cv.Rmse:F2} fd001_cv_score={cv.Score:F1} ai4i_model_f1={m.F1:F4} ai4i_rules_f1={rules.F1:F4} fd001_train_s={fd001.TrainingTime.TotalSeconds:F1}"));
return 0;

static ClassificationMetrics RulesF1(string ai4iFile)
{
    var rulesets = Path.Combine(AppContext.BaseDirectory, "rulesets");
    using var store = RulesetStore.Open(rulesets);
    using var telemetry = new RulesTelemetry();
    var evaluator = new RulesEvaluator(store, telemetry, TimeProvider.System);
    int tp = 0, fp = 0, fn = 0, tn = 0;
    foreach (var row in Ai4iDataset.Load(ai4iFile).Rows)
    {
        var facts = new Dictionary<string, double>
        {
            [Ai4iDataset.AirTemperature] = row.AirTemperatureK,
            [Ai4iDataset.ProcessTemperature] = row.ProcessTemperatureK,
            [Ai4iDataset.RotationalSpeed] = row.RotationalSpeedRpm,
            [Ai4iDataset.Torque] = row.TorqueNm,
            [Ai4iDataset.ToolWear] = row.ToolWearMin,
            [Ai4iDataset.ProductType] = Ai4iDataset.TypeCode(row.ProductType),
        };
        var decision = evaluator.Evaluate(new RulesInput
        {
            AssetId = row.Udi.ToString(CultureInfo.InvariantCulture),
            AssetClass = "milling-machine",
            Facts = facts,
        });
        var predicted = decision.HealthState != HealthState.Healthy;
        if (predicted && row.MachineFailure) { tp++; }
        else if (predicted) { fp++; }
        else if (row.MachineFailure) { fn++; }
        else { tn++; }
    }

    return ClassificationMetrics.FromCounts(tp, fp, fn, tn);
}

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string RepositoryRoot()
{
    var dir = AppContext.BaseDirectory;
    while (dir is not null && !File.Exists(Path.Combine(dir, "PdM.sln")))
    {
        dir = Path.GetDirectoryName(dir);
    }

    return dir ?? throw new InvalidOperationException("PdM.sln not found above " + AppContext.BaseDirectory);
}
