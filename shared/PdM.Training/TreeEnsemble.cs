namespace PdM.Training;

/// <summary>
/// One regression tree in ML.NET's layout: internal nodes 0..n−1 split on <c>x[feature] ≤ threshold</c> (true → left);
/// a negative child c points at leaf ~c. A tree with no internal node is a single leaf. A missing value (NaN) goes
/// right, as the comparison sends it, unless <see cref="MissingGoesLeft"/> says otherwise for that node.
/// </summary>
public sealed record TreeModel(int[] LeftChild, int[] RightChild, int[] SplitFeature, float[] Threshold, double[] LeafValues)
{
    public int InternalNodeCount => LeftChild.Length;

    /// <summary>
    /// Per internal node, whether a NaN takes the left branch: LightGBM learns a side per split; null when every NaN goes
    /// right (FastTree's trees).
    /// </summary>
    public bool[]? MissingGoesLeft { get; init; }

    public double Evaluate(ReadOnlySpan<float> features)
    {
        if (LeftChild.Length == 0)
        {
            return LeafValues[0];
        }

        var node = 0;
        while (node >= 0)
        {
            var value = features[SplitFeature[node]];
            var left = float.IsNaN(value) ? MissingGoesLeft is { } missing && missing[node] : value <= Threshold[node];
            node = left ? LeftChild[node] : RightChild[node];
        }

        return LeafValues[~node];
    }
}

/// <summary>Platt scaling as ML.NET applies it: p = 1 / (1 + exp(slope · score + offset)).</summary>
public sealed record PlattCalibration(double Slope, double Offset);

/// <summary>
/// A trained tree ensemble independent of ML.NET types: raw score = bias + Σ weight_t · tree_t(x); for a classifier
/// the probability is <see cref="Calibration"/> applied to the raw score. <see cref="FeatureCount"/> counts the
/// columns the trees read: the spec's features followed by <see cref="Derived"/>.
/// </summary>
public sealed record TreeEnsembleModel(IReadOnlyList<TreeModel> Trees, IReadOnlyList<double> TreeWeights, double Bias, int FeatureCount, PlattCalibration? Calibration)
{
    public IReadOnlyList<DerivedFeature> Derived { get; init; } = [];

    /// <summary>Columns of the model input (the feature spec's vector).</summary>
    public int InputCount => FeatureCount - Derived.Count;

    public double RawScore(ReadOnlySpan<float> features)
    {
        var sum = Bias;
        for (var t = 0; t < Trees.Count; t++)
        {
            sum += TreeWeights[t] * Trees[t].Evaluate(features);
        }

        return sum;
    }
}
