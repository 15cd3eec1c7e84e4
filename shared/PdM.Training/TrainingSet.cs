using PdM.Features;

namespace PdM.Training;

/// <summary>
/// One training example: a feature vector computed by PdM.Features, the group it belongs to (asset: no group may be
/// split across a cross-validation fold), its time (cycle or process number), the label the trainer fits, and the
/// uncapped target the evaluation compares with (true RUL, or 0/1).
/// </summary>
public sealed record TrainingExample(string Group, int Time, float[] Features, float Label, double Target)
{
    /// <summary>
    /// The features before the float32 rounding (<see cref="FeatureVector.ExactValues"/>) when the importer computed
    /// them: what the gateway gives the rules, so a card's rules figures decide limits like "ΔT &lt; 8.6 K" the same way
    /// (AI4I's 0.1 K grid puts many rows on such a limit, where float32 and double disagree). Null: use the features.
    /// </summary>
    public double[]? ExactFeatures { get; init; }
}

/// <summary>Examples with the feature spec that produced them (and that the model package will carry).</summary>
public sealed class TrainingSet
{
    public TrainingSet(FeatureSpec spec, IReadOnlyList<TrainingExample> examples, string datasetName, string datasetSha256,
        IReadOnlyList<DerivedFeature>? derived = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(examples);
        Spec = spec;
        Examples = examples;
        DatasetName = datasetName;
        DatasetSha256 = datasetSha256;
        Derived = derived ?? [];
        var names = new string[spec.Features.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = spec.Features[i].Name;
        }

        FeatureNames = names;
    }

    public FeatureSpec Spec { get; }

    public IReadOnlyList<TrainingExample> Examples { get; }

    public IReadOnlyList<string> FeatureNames { get; }

    public int FeatureCount => FeatureNames.Count;

    /// <summary>Model-internal columns computed from the spec's features (see <see cref="DerivedFeature"/>).</summary>
    public IReadOnlyList<DerivedFeature> Derived { get; }

    public string DatasetName { get; }

    public string DatasetSha256 { get; }

    public TrainingSet Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var examples = new TrainingExample[indices.Count];
        for (var i = 0; i < examples.Length; i++)
        {
            examples[i] = Examples[indices[i]];
        }

        return new TrainingSet(Spec, examples, DatasetName, DatasetSha256, Derived);
    }

    public float[][] FeatureMatrix()
    {
        var rows = new float[Examples.Count][];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = Examples[i].Features;
        }

        return rows;
    }
}
