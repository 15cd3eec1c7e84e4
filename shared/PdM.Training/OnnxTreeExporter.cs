using System.Globalization;
using Google.Protobuf;
using PdM.ModelPackage.Onnx;

namespace PdM.Training;

/// <summary>Names and metadata of an exported graph.</summary>
public sealed record OnnxExportOptions
{
    public string InputName { get; init; } = "features";

    /// <summary>The regressor's output (RUL) or the classifier's failure probability.</summary>
    public required string OutputName { get; init; }

    public string GraphName { get; init; } = "pdm_tree_ensemble";

    public string DocString { get; init; } = string.Empty;

    /// <summary>Written to ModelProto.metadata_props (training run, dataset digest, …).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// In-house ONNX export of ML.NET tree ensembles (decision D7): <c>ai.onnx.ml</c> TreeEnsembleRegressor (opset 3),
/// IR version 8, <c>ai.onnx</c> opset 17 — what ONNX 1.12's checker and ONNX Runtime both accept.
/// <para>
/// Input: float [N, F] in feature-spec order; derived columns (<see cref="DerivedFeature"/>) are computed in the
/// graph and concatenated after it. The input is cast to double so that ONNX Runtime compares and
/// accumulates in double, as ML.NET does (ML.NET sums the trees in double and rounds once): comparing a float feature
/// with a float threshold gives the same branch in either precision, while summing hundreds of leaves in float could miss
/// ML.NET's score by more than 1e-4. Thresholds and leaf values are written as double tensors (<c>*_as_tensor</c>).
/// </para>
/// <para>
/// Regression: Y = bias + Σ weight·leaf, output [N, 1]. Binary classification: ML.NET's Platt calibration
/// p = 1/(1 + exp(slope·s + offset)) is folded into the leaves (× −slope) and the base value (−slope·bias − offset),
/// then a Sigmoid gives the failure probability [N, 1]. No normaliser exists to fold: the trainer uses none.
/// </para>
/// </summary>
public static class OnnxTreeExporter
{
    public const long IrVersion = 8;
    public const long OnnxOpset = 17;
    public const long OnnxMlOpset = 3;
    public const string MlDomain = "ai.onnx.ml";

    private const int FloatType = 1;
    private const int Int64Type = 7;
    private const int DoubleType = 11;

    public static byte[] Export(TreeEnsembleModel ensemble, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        ArgumentNullException.ThrowIfNull(options);
        var classifier = ensemble.Calibration is not null;
        var scale = classifier ? -ensemble.Calibration!.Slope : 1.0;
        var baseValue = classifier ? (scale * ensemble.Bias) - ensemble.Calibration!.Offset : ensemble.Bias;

        var treeIds = new List<long>();
        var nodeIds = new List<long>();
        var featureIds = new List<long>();
        var modes = new List<ByteString>();
        var values = new List<double>();
        var trueIds = new List<long>();
        var falseIds = new List<long>();
        var missingTrue = new List<long>();
        var targetTree = new List<long>();
        var targetNode = new List<long>();
        var targetWeights = new List<double>();
        var leaf = ByteString.CopyFromUtf8("LEAF");
        var leq = ByteString.CopyFromUtf8("BRANCH_LEQ");

        for (var t = 0; t < ensemble.Trees.Count; t++)
        {
            var tree = ensemble.Trees[t];
            var n = tree.InternalNodeCount;
            for (var i = 0; i < n; i++)
            {
                treeIds.Add(t);
                nodeIds.Add(i);
                featureIds.Add(tree.SplitFeature[i]);
                modes.Add(leq);
                values.Add(tree.Threshold[i]);
                trueIds.Add(OnnxNodeId(tree.LeftChild[i], n));
                falseIds.Add(OnnxNodeId(tree.RightChild[i], n));
                missingTrue.Add(tree.MissingGoesLeft is { } missing && missing[i] ? 1 : 0);
            }

            for (var j = 0; j < tree.LeafValues.Length; j++)
            {
                treeIds.Add(t);
                nodeIds.Add(n + j);
                featureIds.Add(0);
                modes.Add(leaf);
                values.Add(0);
                trueIds.Add(0);
                falseIds.Add(0);
                missingTrue.Add(0);
                targetTree.Add(t);
                targetNode.Add(n + j);
                targetWeights.Add(scale * ensemble.TreeWeights[t] * tree.LeafValues[j]);
            }
        }

        var ensembleOutput = classifier ? "raw_score" : options.OutputName;
        var trees = new NodeProto
        {
            Name = "tree_ensemble",
            OpType = "TreeEnsembleRegressor",
            Domain = MlDomain,
            Input = { "features_double" },
            Output = { ensembleOutput },
            Attribute =
            {
                Int("n_targets", 1),
                Text("aggregate_function", "SUM"),
                Text("post_transform", "NONE"),
                Ints("nodes_treeids", treeIds),
                Ints("nodes_nodeids", nodeIds),
                Ints("nodes_featureids", featureIds),
                Texts("nodes_modes", modes),
                Doubles("nodes_values_as_tensor", values),
                Ints("nodes_truenodeids", trueIds),
                Ints("nodes_falsenodeids", falseIds),
                // A NaN takes the true (≤, left) branch where this is 1, the false branch elsewhere: TreeModel.Evaluate.
                Ints("nodes_missing_value_tracks_true", missingTrue),
                Ints("target_treeids", targetTree),
                Ints("target_nodeids", targetNode),
                Ints("target_ids", new long[targetTree.Count]),
                Doubles("target_weights_as_tensor", targetWeights),
                Doubles("base_values_as_tensor", [baseValue]),
            },
        };

        var graph = new GraphProto
        {
            Name = options.GraphName,
            DocString = options.DocString,
            Input = { FloatMatrix(options.InputName, ensemble.InputCount) },
            Output = { FloatMatrix(options.OutputName, 1) },
        };

        var treeInput = AddDerived(graph, ensemble.Derived, options.InputName);
        graph.Node.Add(new NodeProto
        {
            Name = "to_double",
            OpType = "Cast",
            Input = { treeInput },
            Output = { "features_double" },
            Attribute = { Int("to", DoubleType) },
        });
        graph.Node.Add(trees);

        if (classifier)
        {
            graph.Node.Add(new NodeProto { Name = "probability", OpType = "Sigmoid", Input = { ensembleOutput }, Output = { options.OutputName } });
        }

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "PdM.Training",
            ProducerVersion = typeof(OnnxTreeExporter).Assembly.GetName().Version?.ToString() ?? "1.0.0",
            ModelVersion = 1,
            DocString = options.DocString,
            Graph = graph,
            OpsetImport =
            {
                new OperatorSetIdProto { Domain = string.Empty, Version = OnnxOpset },
                new OperatorSetIdProto { Domain = MlDomain, Version = OnnxMlOpset },
            },
        };

        foreach (var (key, value) in options.Metadata)
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        return model.ToByteArray();
    }

    /// <summary>
    /// Appends the derived columns: per column two Gathers (axis 1, one index each → [N, 1]) and a Sub or Mul, then a
    /// Concat after the input. Returns the name of the tensor the trees read.
    /// </summary>
    private static string AddDerived(GraphProto graph, IReadOnlyList<DerivedFeature> derived, string input)
    {
        if (derived.Count == 0)
        {
            return input;
        }

        var concat = new NodeProto { Name = "model_columns", OpType = "Concat", Input = { input }, Output = { "model_columns" }, Attribute = { Int("axis", 1) } };
        var indices = new HashSet<int>();
        foreach (var d in derived)
        {
            indices.Add(d.Left);
            indices.Add(d.Right);
        }

        foreach (var index in indices)
        {
            var name = "column_index_" + index.ToString(CultureInfo.InvariantCulture);
            graph.Initializer.Add(new TensorProto { Name = name, DataType = Int64Type, Dims = { 1 }, Int64Data = { index } });
            graph.Node.Add(new NodeProto
            {
                Name = "column_" + index.ToString(CultureInfo.InvariantCulture),
                OpType = "Gather",
                Input = { input, name },
                Output = { "column_" + index.ToString(CultureInfo.InvariantCulture) },
                Attribute = { Int("axis", 1) },
            });
        }

        foreach (var d in derived)
        {
            graph.Node.Add(new NodeProto
            {
                Name = "derived_" + d.Name,
                OpType = d.Operation == DerivedOperation.Difference ? "Sub" : "Mul",
                Input = { "column_" + d.Left.ToString(CultureInfo.InvariantCulture), "column_" + d.Right.ToString(CultureInfo.InvariantCulture) },
                Output = { "derived_" + d.Name },
            });
            concat.Input.Add("derived_" + d.Name);
        }

        graph.Node.Add(concat);
        return concat.Output[0];
    }

    private static long OnnxNodeId(int child, int internalNodes) => child >= 0 ? child : internalNodes + ~child;

    private static ValueInfoProto FloatMatrix(string name, long columns) => new()
    {
        Name = name,
        Type = new TypeProto
        {
            TensorType = new TypeProto.Types.Tensor
            {
                ElemType = FloatType,
                Shape = new TensorShapeProto
                {
                    Dim =
                    {
                        new TensorShapeProto.Types.Dimension { DimParam = "N" },
                        new TensorShapeProto.Types.Dimension { DimValue = columns },
                    },
                },
            },
        },
    };

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Text(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    private static AttributeProto Ints(string name, IEnumerable<long> values) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };

    private static AttributeProto Texts(string name, IEnumerable<ByteString> values) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Strings, Strings = { values } };

    private static AttributeProto Doubles(string name, List<double> values) => new()
    {
        Name = name,
        Type = AttributeProto.Types.AttributeType.Tensor,
        T = new TensorProto
        {
            Name = name,
            DataType = DoubleType,
            Dims = { (long)values.Count },
            DoubleData = { values },
        },
    };
}
