namespace PdM.Training.Tests;

public sealed class RulMetricsTests
{
    private static double[] Truth()
    {
        // Any 100 true RULs: the test vectors depend only on d = predicted − true.
        var truth = new double[100];
        for (var i = 0; i < truth.Length; i++)
        {
            truth[i] = 7 + (i * 137 % 139);
        }

        return truth;
    }

    [Theory]
    [InlineData(10, 10.000, 171.828)]
    [InlineData(-10, 10.000, 115.811)]
    public void Matches_the_cmapss_readme_test_vectors(double offset, double rmse, double score)
    {
        var truth = Truth();
        var predicted = new double[truth.Length];
        for (var i = 0; i < truth.Length; i++)
        {
            predicted[i] = truth[i] + offset;
        }

        Assert.Equal(rmse, RulMetrics.Rmse(predicted, truth), 3);
        Assert.Equal(score, RulMetrics.Phm08Score(predicted, truth), 3);
    }

    [Fact]
    public void Late_predictions_cost_more_than_early_ones()
    {
        Assert.True(RulMetrics.Phm08Score([60.0], [50.0]) > RulMetrics.Phm08Score([40.0], [50.0]));
        Assert.Equal(0, RulMetrics.Phm08Score([50.0], [50.0]));
    }
}

public sealed class ClassificationMetricsTests
{
    [Fact]
    public void Precision_recall_f1_from_counts()
    {
        // The physics ruleset's AI4I figures (shared/PdM.Rules/README.md): TP 302, FP 107, FN 37, TN 9554.
        var m = ClassificationMetrics.FromCounts(302, 107, 37, 9554);
        Assert.Equal(0.7384, m.Precision, 4);
        Assert.Equal(0.8909, m.Recall, 4);
        Assert.Equal(0.8075, m.F1, 4);
    }

    [Fact]
    public void Average_precision_of_a_known_ranking()
    {
        // Ranked: pos, neg, pos, neg → AP = 1/2·1 + 1/2·2/3 = 0.8333 (scikit-learn's average_precision_score).
        var ap = ClassificationMetrics.AveragePrecision([0.9, 0.8, 0.7, 0.1], [true, false, true, false]);
        Assert.Equal(0.8333, ap, 4);
        Assert.Equal(1.0, ClassificationMetrics.AveragePrecision([0.9, 0.2], [true, false]), 10);
    }
}
