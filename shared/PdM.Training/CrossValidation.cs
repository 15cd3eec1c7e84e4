using System.Globalization;

namespace PdM.Training;

/// <summary>One held-out engine, truncated at <see cref="CutCycle"/> like a test trajectory.</summary>
public sealed record RulCvPoint(string Asset, int Fold, int CutCycle, double TrueRul, double PredictedRul);

/// <summary>Grouped cross-validation of a RUL model.</summary>
public sealed record RulCvResult(
    IReadOnlyList<Fold> Folds,
    IReadOnlyList<RulCvPoint> Points,
    double Rmse,
    double Score,
    double AllWindowsRmse,
    int RulCap,
    string CutRule);

/// <summary>Stratified cross-validation of a failure classifier: out-of-fold probabilities for every row.</summary>
public sealed record ClassificationCvResult(IReadOnlyList<Fold> Folds, IReadOnlyList<double> Probabilities, ClassificationMetrics Metrics, double Threshold);

public static class CrossValidation
{
    /// <summary>Smallest and largest remaining life a CV cut leaves (true RUL at the last observed cycle).</summary>
    public const int MinCutRul = 5;

    public const int MaxCutRul = 150;

    /// <summary>
    /// K-fold CV grouped by engine: a fold trains on the other folds' engines only. Each held-out engine is truncated
    /// like a test trajectory: its remaining life r is drawn uniformly from [<see cref="MinCutRul"/>,
    /// min(<see cref="MaxCutRul"/>, last cycle − window + 1)] with a generator seeded from the run seed, and the model
    /// is scored once per engine at cycle T_fail − r against the uncapped true RUL r (RMSE and PHM08 score, one
    /// term per engine, as on the test set). <see cref="RulCvResult.AllWindowsRmse"/> is the RMSE over every
    /// held-out window against the capped label.
    /// </summary>
    public static RulCvResult Rul(TrainingSet set, TreeTrainingOptions options, int folds = 5, int rulCap = CmapssTraining.DefaultRulCap)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(options);
        var groups = Groups(set);
        var split = Folds.Grouped(groups, folds, options.Seed);

        // Rows per engine, by cycle, to find the vector at the cut.
        var byAsset = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var r = 0; r < set.Examples.Count; r++)
        {
            if (!byAsset.TryGetValue(groups[r], out var list))
            {
                byAsset[groups[r]] = list = [];
            }

            list.Add(r);
        }

        var assets = new List<string>(byAsset.Keys);
        assets.Sort(StringComparer.Ordinal);
        var random = new Random(options.Seed);
        var cutRow = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var asset in assets)
        {
            var rows = byAsset[asset];
            var maxRul = 0.0;
            foreach (var r in rows)
            {
                maxRul = Math.Max(maxRul, set.Examples[r].Target);
            }

            var upper = (int)Math.Min(MaxCutRul, maxRul);
            var lower = Math.Min(MinCutRul, upper);
            var rul = random.Next(lower, upper + 1);
            foreach (var r in rows)
            {
                if ((int)set.Examples[r].Target == rul)
                {
                    cutRow[asset] = r;
                }
            }
        }

        var points = new List<RulCvPoint>();
        double windowSq = 0;
        var windowCount = 0;
        foreach (var fold in split)
        {
            var model = TreeModelTrainer.Train(set.Subset(fold.TrainRows), options);
            var test = set.Subset(fold.TestRows);
            var predicted = model.Predict(test.FeatureMatrix());
            var rowToTest = new Dictionary<int, int>();
            for (var i = 0; i < fold.TestRows.Count; i++)
            {
                rowToTest[fold.TestRows[i]] = i;
                var d = predicted[i] - set.Examples[fold.TestRows[i]].Label;
                windowSq += d * d;
                windowCount++;
            }

            var held = new List<string>(fold.TestGroups);
            held.Sort(StringComparer.Ordinal);
            foreach (var asset in held)
            {
                var r = cutRow[asset];
                var e = set.Examples[r];
                points.Add(new RulCvPoint(asset, fold.Index, e.Time, e.Target, predicted[rowToTest[r]]));
            }
        }

        var truth = new double[points.Count];
        var prediction = new double[points.Count];
        for (var i = 0; i < points.Count; i++)
        {
            truth[i] = points[i].TrueRul;
            prediction[i] = points[i].PredictedRul;
        }

        var rule = string.Create(CultureInfo.InvariantCulture,
            $"{folds}-fold CV grouped by engine (seed {options.Seed}); each held-out engine cut once at a remaining life drawn uniformly from [{MinCutRul}, min({MaxCutRul}, lifetime − window + 1)] cycles, scored against the uncapped true RUL");
        return new RulCvResult(split, points, RulMetrics.Rmse(prediction, truth), RulMetrics.Phm08Score(prediction, truth),
            Math.Sqrt(windowSq / windowCount), rulCap, rule);
    }

    /// <summary>Stratified K-fold CV; every row is predicted once by a model that never saw it.</summary>
    public static ClassificationCvResult Classification(TrainingSet set, TreeTrainingOptions options, int folds = 5, double threshold = 0.5)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(options);
        var labels = new bool[set.Examples.Count];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = set.Examples[i].Label > 0.5f;
        }

        var split = Folds.Stratified(labels, Groups(set), folds, options.Seed);
        var probabilities = new double[labels.Length];
        foreach (var fold in split)
        {
            var model = TreeModelTrainer.Train(set.Subset(fold.TrainRows), options);
            var predicted = model.Predict(set.Subset(fold.TestRows).FeatureMatrix());
            for (var i = 0; i < fold.TestRows.Count; i++)
            {
                probabilities[fold.TestRows[i]] = predicted[i];
            }
        }

        return new ClassificationCvResult(split, probabilities, ClassificationMetrics.Compute(probabilities, labels, threshold), threshold);
    }

    private static string[] Groups(TrainingSet set)
    {
        var groups = new string[set.Examples.Count];
        for (var i = 0; i < groups.Length; i++)
        {
            groups[i] = set.Examples[i].Group;
        }

        return groups;
    }
}
