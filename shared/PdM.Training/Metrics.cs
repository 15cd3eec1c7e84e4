using PdM.ModelPackage.Cards;

namespace PdM.Training;

/// <summary>RUL metrics as the C-MAPSS literature defines them, with d = predicted − true.</summary>
public static class RulMetrics
{
    public static double Rmse(IReadOnlyList<double> predicted, IReadOnlyList<double> truth)
    {
        Check(predicted, truth);
        var sum = 0.0;
        for (var i = 0; i < predicted.Count; i++)
        {
            var d = predicted[i] - truth[i];
            sum += d * d;
        }

        return Math.Sqrt(sum / predicted.Count);
    }

    /// <summary>PHM08 score: Σ exp(−d/13) − 1 for d &lt; 0 plus Σ exp(d/10) − 1 for d ≥ 0 (a sum over units, late costs more).</summary>
    public static double Phm08Score(IReadOnlyList<double> predicted, IReadOnlyList<double> truth)
    {
        Check(predicted, truth);
        var score = 0.0;
        for (var i = 0; i < predicted.Count; i++)
        {
            var d = predicted[i] - truth[i];
            score += d < 0 ? Math.Exp(-d / 13.0) - 1 : Math.Exp(d / 10.0) - 1;
        }

        return score;
    }

    private static void Check(IReadOnlyList<double> predicted, IReadOnlyList<double> truth)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(truth);
        if (predicted.Count != truth.Count || predicted.Count == 0)
        {
            throw new ArgumentException("predicted and truth must be non-empty and of equal length");
        }
    }
}

/// <summary>Binary classification figures for the failure (positive) class.</summary>
public sealed record ClassificationMetrics(
    int TruePositives, int FalsePositives, int FalseNegatives, int TrueNegatives, double Precision, double Recall, double F1, double PrAuc)
{
    /// <summary>Metrics at <paramref name="threshold"/> (positive when probability ≥ threshold); PR-AUC is threshold-free.</summary>
    public static ClassificationMetrics Compute(IReadOnlyList<double> probability, IReadOnlyList<bool> actual, double threshold = 0.5)
    {
        ArgumentNullException.ThrowIfNull(probability);
        ArgumentNullException.ThrowIfNull(actual);
        int tp = 0, fp = 0, fn = 0, tn = 0;
        for (var i = 0; i < probability.Count; i++)
        {
            var predicted = probability[i] >= threshold;
            if (predicted && actual[i]) { tp++; }
            else if (predicted) { fp++; }
            else if (actual[i]) { fn++; }
            else { tn++; }
        }

        return FromCounts(tp, fp, fn, tn, AveragePrecision(probability, actual));
    }

    public static ClassificationMetrics FromCounts(int tp, int fp, int fn, int tn, double prAuc = double.NaN)
    {
        // One definition of precision, recall and F1 (the model card's), so the card's rules figures and the model's agree.
        var counts = ConfusionCounts.Of(tp, fp, fn, tn);
        return new ClassificationMetrics(tp, fp, fn, tn, counts.Precision, counts.Recall, counts.F1, prAuc);
    }

    /// <summary>
    /// Area under the precision-recall curve as average precision: Σ (R_k − R_{k−1}) · P_k over the distinct score
    /// thresholds, highest first (tied scores form one step, as scikit-learn's average_precision_score).
    /// </summary>
    public static double AveragePrecision(IReadOnlyList<double> probability, IReadOnlyList<bool> actual)
    {
        ArgumentNullException.ThrowIfNull(probability);
        ArgumentNullException.ThrowIfNull(actual);
        var order = new int[probability.Count];
        var positives = 0;
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
            positives += actual[i] ? 1 : 0;
        }

        if (positives == 0)
        {
            return double.NaN;
        }

        Array.Sort(order, (a, b) => probability[b].CompareTo(probability[a]));
        double ap = 0, previousRecall = 0;
        int tp = 0, seen = 0;
        for (var k = 0; k < order.Length; k++)
        {
            seen++;
            tp += actual[order[k]] ? 1 : 0;
            var lastOfTie = k == order.Length - 1 || probability[order[k + 1]] != probability[order[k]];
            if (lastOfTie)
            {
                var recall = (double)tp / positives;
                ap += (recall - previousRecall) * ((double)tp / seen);
                previousRecall = recall;
            }
        }

        return ap;
    }
}
