namespace PdM.Training;

/// <summary>One cross-validation fold: row indices on each side and the groups (assets) each side holds.</summary>
public sealed record Fold(int Index, IReadOnlyList<int> TrainRows, IReadOnlyList<int> TestRows, IReadOnlySet<string> TrainGroups, IReadOnlySet<string> TestGroups);

/// <summary>Fold assignment: grouped by asset (no asset on both sides) and stratified by class.</summary>
public static class Folds
{
    /// <summary>
    /// K folds over the distinct groups: groups are shuffled with <paramref name="seed"/> and dealt round-robin, so each
    /// group's rows all land in one test fold and never in that fold's training side.
    /// </summary>
    public static IReadOnlyList<Fold> Grouped(IReadOnlyList<string> groups, int k, int seed)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 2);
        var distinct = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in groups)
        {
            if (seen.Add(g))
            {
                distinct.Add(g);
            }
        }

        if (distinct.Count < k)
        {
            throw new ArgumentException($"{distinct.Count} groups cannot make {k} folds", nameof(groups));
        }

        distinct.Sort(StringComparer.Ordinal);
        var shuffled = distinct.ToArray();
        new Random(seed).Shuffle(shuffled);
        var foldOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < shuffled.Length; i++)
        {
            foldOf[shuffled[i]] = i % k;
        }

        var rowFold = new int[groups.Count];
        for (var r = 0; r < rowFold.Length; r++)
        {
            rowFold[r] = foldOf[groups[r]];
        }

        return Build(rowFold, groups, k);
    }

    /// <summary>K folds with each class's rows shuffled with <paramref name="seed"/> and dealt round-robin per class.</summary>
    public static IReadOnlyList<Fold> Stratified(IReadOnlyList<bool> labels, IReadOnlyList<string> groups, int k, int seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 2);
        var rowFold = new int[labels.Count];
        var random = new Random(seed);
        foreach (var cls in new[] { true, false })
        {
            var rows = new List<int>();
            for (var r = 0; r < labels.Count; r++)
            {
                if (labels[r] == cls)
                {
                    rows.Add(r);
                }
            }

            var shuffled = rows.ToArray();
            random.Shuffle(shuffled);
            for (var i = 0; i < shuffled.Length; i++)
            {
                rowFold[shuffled[i]] = i % k;
            }
        }

        return Build(rowFold, groups, k);
    }

    private static List<Fold> Build(int[] rowFold, IReadOnlyList<string> groups, int k)
    {
        var folds = new List<Fold>(k);
        for (var f = 0; f < k; f++)
        {
            var train = new List<int>();
            var test = new List<int>();
            var trainGroups = new HashSet<string>(StringComparer.Ordinal);
            var testGroups = new HashSet<string>(StringComparer.Ordinal);
            for (var r = 0; r < rowFold.Length; r++)
            {
                if (rowFold[r] == f)
                {
                    test.Add(r);
                    testGroups.Add(groups[r]);
                }
                else
                {
                    train.Add(r);
                    trainGroups.Add(groups[r]);
                }
            }

            folds.Add(new Fold(f, train, test, trainGroups, testGroups));
        }

        return folds;
    }
}
