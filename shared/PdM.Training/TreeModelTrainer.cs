using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace PdM.Training;

/// <summary>A fitted ML.NET model with its extracted ensemble (for export) and ML.NET's own predictions.</summary>
public sealed class TrainedTreeModel
{
    private readonly MLContext _ml;
    private readonly ITransformer _transformer;

    internal TrainedTreeModel(MLContext ml, ITransformer transformer, TreeEnsembleModel ensemble, TreeTrainingOptions options, float[] featureImportance,
        IReadOnlyList<string> columnNames)
    {
        ColumnNames = columnNames;
        _ml = ml;
        _transformer = transformer;
        Ensemble = ensemble;
        Options = options;
        FeatureImportance = featureImportance;
    }

    public TreeEnsembleModel Ensemble { get; }

    public TreeTrainingOptions Options { get; }

    /// <summary>The columns the trees read: feature names, then derived names.</summary>
    public IReadOnlyList<string> ColumnNames { get; }

    /// <summary>ML.NET's gain-based importance per column (<see cref="ColumnNames"/> order).</summary>
    public IReadOnlyList<float> FeatureImportance { get; }

    /// <summary>
    /// ML.NET's prediction per feature-spec row: RUL (Score) for regression, calibrated probability for
    /// classification. Derived columns are appended here, as the ONNX graph does.
    /// </summary>
    public float[] Predict(IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var augmented = new float[rows.Count][];
        for (var i = 0; i < augmented.Length; i++)
        {
            augmented[i] = DerivedFeature.Augment(rows[i], Ensemble.Derived);
        }

        var data = TreeModelTrainer.ToDataView(_ml, augmented, null, Ensemble.FeatureCount, Options.Task);
        var scored = _transformer.Transform(data);
        var column = Options.Task == TrainingTask.RulRegression ? "Score" : "Probability";
        return [.. scored.GetColumn<float>(column)];
    }
}

/// <summary>Fits ML.NET FastTree / LightGBM on a <see cref="TrainingSet"/> (no normaliser: trees need none).</summary>
public static class TreeModelTrainer
{
    // ML.NET's internal tree behind the public one, and its per-node NaN substitutes: looked up once, not per tree.
    private static readonly FieldInfo? InternalTree = typeof(RegressionTreeBase).GetField("_tree", BindingFlags.Instance | BindingFlags.NonPublic);
    private static readonly MemberInfo? DefaultValueForMissing =
        (MemberInfo?)InternalTree?.FieldType.GetField("DefaultValueForMissing", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
        ?? InternalTree?.FieldType.GetProperty("DefaultValueForMissing", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);

    public static TrainedTreeModel Train(TrainingSet set, TreeTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var ml = new MLContext(options.Seed);
        var labels = new float[set.Examples.Count];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = set.Examples[i].Label;
        }

        var rows = set.FeatureMatrix();
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = DerivedFeature.Augment(rows[i], set.Derived);
        }

        var columns = new List<string>(set.FeatureNames);
        foreach (var d in set.Derived)
        {
            columns.Add(d.Name);
        }

        var data = ToDataView(ml, rows, labels, columns.Count, options.Task);
        var (transformer, parameters, calibration) = options.Task == TrainingTask.RulRegression
            ? FitRegression(ml, data, options)
            : FitBinary(ml, data, options);
        var ensemble = Extract(parameters, columns.Count, calibration) with { Derived = set.Derived };
        return new TrainedTreeModel(ml, transformer, ensemble, options, Importance(parameters, columns.Count), columns);
    }

    /// <summary>
    /// Per node, whether ML.NET sends a missing value (NaN) left; null when it sends every NaN right (no substitutes).
    /// LightGBM learns a side per split, and ML.NET keeps it as a value substituted for NaN at each node
    /// (<c>DefaultValueForMissing</c>) that its public tree API does not expose: read from the internal tree. Exported
    /// without it, NaN rows took other branches than the model that was cross-validated (seen: 101.2 vs 112.5 cycles).
    /// </summary>
    private static bool[]? MissingGoesLeft(RegressionTreeBase tree, float[] thresholds)
    {
        if (InternalTree is null || DefaultValueForMissing is null)
        {
            // A newer ML.NET that moved it: exporting without it would silently misroute NaN, so nothing is exported.
            throw new NotSupportedException(
                $"ML.NET {typeof(RegressionTreeBase).Assembly.GetName().Version} keeps no RegressionTreeBase._tree.DefaultValueForMissing: the side each split sends a missing value cannot be exported");
        }

        var inner = InternalTree.GetValue(tree);
        var value = DefaultValueForMissing is FieldInfo field ? field.GetValue(inner) : ((PropertyInfo)DefaultValueForMissing).GetValue(inner);
        if (value is not float[] substitutes)
        {
            return null;
        }

        var left = new bool[thresholds.Length];
        for (var i = 0; i < left.Length; i++)
        {
            // ML.NET compares the substitute as it would the value: ≤ threshold goes left.
            left[i] = substitutes[i] <= thresholds[i];
        }

        return left;
    }

    private static (ITransformer, TreeEnsembleModelParametersBasedOnRegressionTree, PlattCalibration?) FitRegression(MLContext ml, IDataView data, TreeTrainingOptions o)
    {
        TreeEnsembleModelParametersBasedOnRegressionTree parameters;
        ITransformer transformer;
        if (o.Algorithm == TreeAlgorithm.FastTree)
        {
            var t = ml.Regression.Trainers.FastTree(FastTreeOptions<FastTreeRegressionTrainer.Options>(o)).Fit(data);
            (parameters, transformer) = (t.Model, t);
        }
        else
        {
            var t = ml.Regression.Trainers.LightGbm(new LightGbmRegressionTrainer.Options
            {
                NumberOfIterations = o.NumberOfTrees,
                NumberOfLeaves = o.NumberOfLeaves,
                MinimumExampleCountPerLeaf = o.MinimumExampleCountPerLeaf,
                LearningRate = o.LearningRate,
                NumberOfThreads = o.Threads,
                Seed = o.Seed,
                Deterministic = true,
            }).Fit(data);
            (parameters, transformer) = (t.Model, t);
        }

        return (transformer, parameters, null);
    }

    private static (ITransformer, TreeEnsembleModelParametersBasedOnRegressionTree, PlattCalibration?) FitBinary(MLContext ml, IDataView data, TreeTrainingOptions o)
    {
        TreeEnsembleModelParametersBasedOnRegressionTree parameters;
        PlattCalibrator calibrator;
        ITransformer transformer;
        if (o.Algorithm == TreeAlgorithm.FastTree)
        {
            var t = ml.BinaryClassification.Trainers.FastTree(FastTreeOptions<FastTreeBinaryTrainer.Options>(o)).Fit(data);
            (parameters, calibrator, transformer) = (t.Model.SubModel, t.Model.Calibrator, t);
        }
        else
        {
            var t = ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            {
                NumberOfIterations = o.NumberOfTrees,
                NumberOfLeaves = o.NumberOfLeaves,
                MinimumExampleCountPerLeaf = o.MinimumExampleCountPerLeaf,
                LearningRate = o.LearningRate,
                NumberOfThreads = o.Threads,
                Seed = o.Seed,
                Deterministic = true,
            }).Fit(data);
            (parameters, calibrator, transformer) = (t.Model.SubModel, t.Model.Calibrator, t);
        }

        return (transformer, parameters, new PlattCalibration(calibrator.Slope, calibrator.Offset));
    }

    // The options' hyperparameters in FastTree's terms, one mapping for regression and classification alike. (LightGBM's
    // two option classes share no base type that a method could name short of its four type arguments, so they stay apart.)
    private static TOptions FastTreeOptions<TOptions>(TreeTrainingOptions o)
        where TOptions : BoostedTreeOptions, new() => new()
        {
            NumberOfTrees = o.NumberOfTrees,
            NumberOfLeaves = o.NumberOfLeaves,
            MinimumExampleCountPerLeaf = o.MinimumExampleCountPerLeaf,
            LearningRate = o.LearningRate,
            NumberOfThreads = o.Threads,
            Seed = o.Seed,
        };

    private static TreeEnsembleModel Extract(TreeEnsembleModelParametersBasedOnRegressionTree parameters, int features, PlattCalibration? calibration)
    {
        var ensemble = parameters.TrainedTreeEnsemble;
        var trees = new List<TreeModel>(ensemble.Trees.Count);
        foreach (var tree in ensemble.Trees)
        {
            var n = tree.NumberOfNodes;
            for (var i = 0; i < n; i++)
            {
                if (tree.CategoricalSplitFlags[i])
                {
                    throw new NotSupportedException("categorical splits are not exported; the training features are all numeric");
                }
            }

            float[] thresholds = [.. tree.NumericalSplitThresholds];
            trees.Add(new TreeModel([.. tree.LeftChild], [.. tree.RightChild], [.. tree.NumericalSplitFeatureIndexes], thresholds, [.. tree.LeafValues])
            {
                MissingGoesLeft = MissingGoesLeft(tree, thresholds),
            });
        }

        return new TreeEnsembleModel(trees, [.. ensemble.TreeWeights], ensemble.Bias, features, calibration);
    }

    private static float[] Importance(TreeEnsembleModelParametersBasedOnRegressionTree parameters, int features)
    {
        var weights = default(VBuffer<float>);
        parameters.GetFeatureWeights(ref weights);
        var dense = new float[features];
        weights.CopyTo(dense);
        return dense;
    }

    internal static IDataView ToDataView(MLContext ml, IReadOnlyList<float[]> rows, float[]? labels, int features, TrainingTask task)
    {
        if (task == TrainingTask.RulRegression)
        {
            var items = new RegressionRow[rows.Count];
            for (var i = 0; i < items.Length; i++)
            {
                items[i] = new RegressionRow { Features = rows[i], Label = labels?[i] ?? 0 };
            }

            var schema = SchemaDefinition.Create(typeof(RegressionRow));
            schema[nameof(RegressionRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features);
            return ml.Data.LoadFromEnumerable(items, schema);
        }

        var binary = new BinaryRow[rows.Count];
        for (var i = 0; i < binary.Length; i++)
        {
            binary[i] = new BinaryRow { Features = rows[i], Label = labels is not null && labels[i] > 0.5f };
        }

        var binarySchema = SchemaDefinition.Create(typeof(BinaryRow));
        binarySchema[nameof(BinaryRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features);
        return ml.Data.LoadFromEnumerable(binary, binarySchema);
    }

    private sealed class RegressionRow
    {
        public float Label { get; set; }

        public float[] Features { get; set; } = [];
    }

    private sealed class BinaryRow
    {
        public bool Label { get; set; }

        public float[] Features { get; set; } = [];
    }
}
