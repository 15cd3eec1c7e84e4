using System.Globalization;

namespace PdM.ModelPackage;

/// <summary>
/// manifest <c>trainingDistribution</c>: per feature, in feature-spec order, the histogram of the training rows over
/// bins cut at training quantiles. The gateway compares the rows a model scores with it (population stability index,
/// <see cref="Psi"/>) to tell an operator that the data has drifted from what the model learned. Training
/// (PdM.Training) and <c>pdm model package</c> both compute it with <see cref="FromColumns"/>, so the bins of a
/// platform-trained and of a bring-your-own model mean the same thing.
/// </summary>
public sealed record TrainingDistribution
{
    /// <summary>Bins per feature <see cref="FromColumns"/> aims for (deciles; fewer when quantiles coincide).</summary>
    public const int DefaultBins = 10;

    /// <summary>
    /// Proportion that stands in for an empty bin in <see cref="Psi"/>: ln(p/q) is infinite for an empty bin, and one
    /// empty bin must not make a feature look infinitely drifted.
    /// </summary>
    public const double EmptyBinProportion = 1e-4;

    public required IReadOnlyList<FeatureDistribution> Features { get; init; }

    /// <summary>
    /// The distribution of each column: interior edges at the 1/bins … (bins−1)/bins quantiles (duplicates dropped, so
    /// a constant or few-valued feature gets fewer bins), proportions counted over the column's finite values (NaN and
    /// infinities are skipped, as the gateway skips them). A column without finite values gets one bin holding all.
    /// </summary>
    public static TrainingDistribution FromColumns(IReadOnlyList<string> names, IReadOnlyList<IReadOnlyList<double>> columns, int bins = DefaultBins)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 2);
        if (names.Count != columns.Count)
        {
            throw new ArgumentException($"{names.Count} names for {columns.Count} columns", nameof(columns));
        }

        var features = new FeatureDistribution[names.Count];
        for (var f = 0; f < features.Length; f++)
        {
            features[f] = FeatureDistribution.FromValues(names[f], columns[f], bins);
        }

        return new TrainingDistribution { Features = features };
    }

    /// <summary>
    /// Population stability index Σ (a − e)·ln(a / e) of observed bin counts against the expected proportions, empty
    /// bins on either side taken as <see cref="EmptyBinProportion"/>. 0 for no observations. Rule of thumb: below 0.1
    /// stable, 0.1–0.2 moderate shift, above 0.2 significant.
    /// </summary>
    public static double Psi(ReadOnlySpan<double> expected, ReadOnlySpan<int> counts)
    {
        if (expected.Length != counts.Length)
        {
            throw new ArgumentException("one count per expected bin", nameof(counts));
        }

        long total = 0;
        foreach (var c in counts)
        {
            total += c;
        }

        if (total == 0)
        {
            return 0;
        }

        var psi = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            var e = Math.Max(expected[i], EmptyBinProportion);
            var a = Math.Max((double)counts[i] / total, EmptyBinProportion);
            psi += (a - e) * Math.Log(a / e);
        }

        return psi;
    }

    /// <summary>Why this distribution does not fit the feature names (in order), or null when it does.</summary>
    public string? Problem(IReadOnlyList<string> featureNames)
    {
        ArgumentNullException.ThrowIfNull(featureNames);
        if (Features.Count != featureNames.Count)
        {
            return F($"trainingDistribution.features has {Features.Count} entries; the feature spec has {featureNames.Count} features");
        }

        for (var i = 0; i < Features.Count; i++)
        {
            var d = Features[i];
            if (d.Name != featureNames[i])
            {
                return F($"trainingDistribution.features[{i}] is '{d.Name}' but feature {i} is '{featureNames[i]}'");
            }

            if (d.Proportions.Count != d.Edges.Count + 1)
            {
                return F($"trainingDistribution.features[{i}] ('{d.Name}') has {d.Edges.Count} edges and {d.Proportions.Count} proportions; it needs one proportion more than edges");
            }

            for (var e = 0; e < d.Edges.Count; e++)
            {
                if (!double.IsFinite(d.Edges[e]) || (e > 0 && !(d.Edges[e] > d.Edges[e - 1])))
                {
                    return F($"trainingDistribution.features[{i}] ('{d.Name}') edges must be finite and strictly increasing");
                }
            }

            var sum = 0.0;
            foreach (var p in d.Proportions)
            {
                if (!double.IsFinite(p) || p < 0)
                {
                    return F($"trainingDistribution.features[{i}] ('{d.Name}') proportions must be finite and ≥ 0");
                }

                sum += p;
            }

            // Rounded proportions written by hand or by another tool sum to 1 only approximately.
            if (Math.Abs(sum - 1) > 1e-3)
            {
                return F($"trainingDistribution.features[{i}] ('{d.Name}') proportions sum to {sum}, not 1");
            }
        }

        return null;
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// One feature's training histogram. Bin i holds the values x with edges[i−1] ≤ x &lt; edges[i]; the first bin is open
/// below and the last open above, so a value outside the training range still lands in a bin (an end one).
/// </summary>
public sealed record FeatureDistribution
{
    public required string Name { get; init; }

    /// <summary>Interior bin edges, strictly increasing (k − 1 edges for k bins).</summary>
    public required IReadOnlyList<double> Edges { get; init; }

    /// <summary>Share of the training rows in each bin (k values summing to 1).</summary>
    public required IReadOnlyList<double> Proportions { get; init; }

    /// <summary>
    /// The bin of <paramref name="value"/> (the number of edges ≤ it); −1 for NaN or ±∞, which no bin holds. Edges are
    /// few (deciles), so they are counted without a branch per edge rather than binary-searched: the gateway bins every
    /// feature of every row it scores. Edges padded with +∞ (the gateway's flat drift window) count the same.
    /// </summary>
    public static int BinOf(ReadOnlySpan<double> edges, double value)
    {
        if (!double.IsFinite(value))
        {
            return -1;
        }

        var bin = 0;
        foreach (var edge in edges)
        {
            bin += edge <= value ? 1 : 0;
        }

        return bin;
    }

    /// <summary>See <see cref="TrainingDistribution.FromColumns"/>.</summary>
    public static FeatureDistribution FromValues(string name, IReadOnlyList<double> values, int bins = TrainingDistribution.DefaultBins)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 2);
        var finite = new List<double>(values.Count);
        foreach (var v in values)
        {
            if (double.IsFinite(v))
            {
                finite.Add(v);
            }
        }

        if (finite.Count == 0)
        {
            return new FeatureDistribution { Name = name, Edges = [], Proportions = [1.0] };
        }

        finite.Sort();
        var edges = new List<double>(bins - 1);
        for (var q = 1; q < bins; q++)
        {
            // Nearest-rank quantile: an edge is always a value the training data had.
            var edge = finite[Math.Min(finite.Count - 1, (int)((long)q * finite.Count / bins))];
            if (edges.Count == 0 || edge > edges[^1])
            {
                edges.Add(edge);
            }
        }

        // A constant feature: one edge at its value puts all of it in the upper bin; anything below is the lower.
        var counts = new int[edges.Count + 1];
        foreach (var v in finite)
        {
            counts[BinOf(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(edges), v)]++;
        }

        var proportions = new double[counts.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            proportions[i] = (double)counts[i] / finite.Count;
        }

        return new FeatureDistribution { Name = name, Edges = edges, Proportions = proportions };
    }
}
