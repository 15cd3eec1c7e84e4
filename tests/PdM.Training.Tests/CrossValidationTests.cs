namespace PdM.Training.Tests;

public sealed class CrossValidationTests
{
    /// <summary>Fails if any engine's rows reach both the training and the test side of any fold.</summary>
    private static void AssertNoEngineOnBothSides(TrainingSet set, IReadOnlyList<Fold> folds)
    {
        var testedIn = new int[set.Examples.Count];
        foreach (var fold in folds)
        {
            var trainEngines = new HashSet<string>(StringComparer.Ordinal);
            foreach (var r in fold.TrainRows)
            {
                trainEngines.Add(set.Examples[r].Group);
            }

            foreach (var r in fold.TestRows)
            {
                testedIn[r]++;
                Assert.False(trainEngines.Contains(set.Examples[r].Group),
                    $"fold {fold.Index}: engine {set.Examples[r].Group} has rows in both train and test");
            }
        }

        Assert.All(testedIn, n => Assert.Equal(1, n)); // every row is held out exactly once
    }

    [Fact]
    public void Rul_cross_validation_never_splits_an_engine_across_train_and_test()
    {
        var set = TestData.Fd001Subset(15);
        var cv = CrossValidation.Rul(set, TestData.SmallRegression(), folds: 5);
        Assert.Equal(5, cv.Folds.Count);
        AssertNoEngineOnBothSides(set, cv.Folds);

        // One scored cut per held-out engine, inside the stated range, at a vector of that engine.
        Assert.Equal(15, cv.Points.Count);
        Assert.Equal(15, new HashSet<string>(cv.Points.Select(p => p.Asset)).Count);
        Assert.All(cv.Points, p => Assert.InRange(p.TrueRul, CrossValidation.MinCutRul, CrossValidation.MaxCutRul));
        Assert.All(cv.Points, p => Assert.Equal(TestData.Fd001.LastCycle(CmapssDataset.UnitOf(p.Asset)) - p.CutCycle, p.TrueRul));
        Assert.True(double.IsFinite(cv.Rmse) && cv.Rmse > 0);
    }

    [Fact]
    public void Leak_check_detects_a_row_level_split()
    {
        // The check above must be able to fail: a plain row-level K-fold puts every engine on both sides.
        var set = TestData.Fd001Subset(5);
        var labels = set.Examples.Select(_ => false).ToArray();
        var rowLevel = Folds.Stratified(labels, set.Examples.Select(e => e.Group).ToArray(), 5, 1);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertNoEngineOnBothSides(set, rowLevel));
    }

    [Fact]
    public void Grouped_folds_are_disjoint_balanced_and_seeded()
    {
        var groups = Enumerable.Range(0, 1000).Select(i => "g" + (i % 100)).ToArray();
        var a = Folds.Grouped(groups, 5, 3);
        var b = Folds.Grouped(groups, 5, 3);
        var c = Folds.Grouped(groups, 5, 4);
        Assert.All(a, f => Assert.Empty(f.TrainGroups.Intersect(f.TestGroups)));
        Assert.All(a, f => Assert.Equal(20, f.TestGroups.Count));
        Assert.Equal(a.Select(f => f.TestRows), b.Select(f => f.TestRows));
        Assert.NotEqual(a.Select(f => string.Join(",", f.TestGroups.Order())), c.Select(f => string.Join(",", f.TestGroups.Order())));
    }

    [Fact]
    public void Stratified_folds_keep_the_failure_rate()
    {
        var labels = Enumerable.Range(0, 1000).Select(i => i % 25 == 0).ToArray(); // 40 positives
        var folds = Folds.Stratified(labels, labels.Select((_, i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(), 5, 9);
        Assert.All(folds, f => Assert.Equal(8, f.TestRows.Count(r => labels[r])));
        Assert.Equal(1000, folds.Sum(f => f.TestRows.Count));
    }
}
