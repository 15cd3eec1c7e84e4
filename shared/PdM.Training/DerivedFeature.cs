namespace PdM.Training;

public enum DerivedOperation
{
    /// <summary>x[left] − x[right].</summary>
    Difference,

    /// <summary>x[left] × x[right].</summary>
    Product,
}

/// <summary>
/// A model-internal input computed from two feature-spec columns in float32, appended after the spec's columns. It
/// lives in the ONNX graph (Gather + Sub/Mul + Concat ahead of the trees), so the package's input stays the feature
/// spec's vector and the gateway computes nothing new: both ML.NET training and ONNX Runtime apply one IEEE float
/// operation to the same two floats, which gives bit-identical values.
/// </summary>
public sealed record DerivedFeature(string Name, DerivedOperation Operation, int Left, int Right)
{
    public float Compute(ReadOnlySpan<float> row) => Operation == DerivedOperation.Difference
        ? row[Left] - row[Right]
        : row[Left] * row[Right];

    /// <summary>The spec row followed by the derived columns (the rows the trees see).</summary>
    public static float[] Augment(float[] row, IReadOnlyList<DerivedFeature> derived)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(derived);
        if (derived.Count == 0)
        {
            return row;
        }

        var result = new float[row.Length + derived.Count];
        row.CopyTo(result, 0);
        for (var i = 0; i < derived.Count; i++)
        {
            result[row.Length + i] = derived[i].Compute(row);
        }

        return result;
    }
}
