namespace PdM.ModelPackage.Cards;

/// <summary>
/// The figures of a model card from labelled rows: one place for training and <c>pdm model package</c>, so a card
/// reads the same whoever made the model.
/// </summary>
public static class ModelCardBuilder
{
    /// <summary>Most points kept per plot: enough to see the shape, small enough for a page and the registry.</summary>
    public const int MaxPoints = 400;

    /// <summary>Bands of actual remaining life the error is broken down by (the last is open-ended).</summary>
    public static IReadOnlyList<double> BandEdges { get; } = [0, 25, 50, 75, 100, 125];

    /// <summary>Predicted against actual remaining life; rows with a non-finite value on either side are left out.</summary>
    public static RegressionEvaluation? Regression(IReadOnlyList<double> actual, IReadOnlyList<double> predicted, string unit)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        var rows = new List<PredictionPoint>(actual.Count);
        for (var i = 0; i < Math.Min(actual.Count, predicted.Count); i++)
        {
            if (double.IsFinite(actual[i]) && double.IsFinite(predicted[i]))
            {
                rows.Add(new PredictionPoint(actual[i], predicted[i]));
            }
        }

        if (rows.Count == 0)
        {
            return null;
        }

        var bands = new List<ErrorBand>(BandEdges.Count);
        for (var b = 0; b < BandEdges.Count; b++)
        {
            var from = BandEdges[b];
            double? to = b + 1 < BandEdges.Count ? BandEdges[b + 1] : null;
            var inBand = rows.Where(r => r.Actual >= from && (to is null || r.Actual < to)).ToList();
            if (inBand.Count > 0)
            {
                bands.Add(new ErrorBand { From = from, To = to, Rows = inBand.Count, Mae = Mae(inBand), Rmse = Rmse(inBand), Bias = Bias(inBand) });
            }
        }

        return new RegressionEvaluation
        {
            Unit = unit,
            Rows = rows.Count,
            Rmse = Rmse(rows),
            Mae = Mae(rows),
            Bias = Bias(rows),
            Points = Sample(rows),
            Bands = bands,
        };
    }

    /// <summary>The failure class (label true) against its probability; <paramref name="threshold"/> is the decision's.</summary>
    public static ClassificationEvaluation? Classification(IReadOnlyList<bool> actual, IReadOnlyList<double> probability, double threshold)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(probability);
        var rows = Enumerable.Range(0, Math.Min(actual.Count, probability.Count))
            .Where(i => double.IsFinite(probability[i]))
            .Select(i => (Label: actual[i], P: probability[i]))
            .ToList();
        if (rows.Count == 0)
        {
            return null;
        }

        int tp = 0, fp = 0, fn = 0, tn = 0;
        foreach (var (label, p) in rows)
        {
            switch (p >= threshold, label)
            {
                case (true, true):
                    tp++;
                    break;
                case (true, false):
                    fp++;
                    break;
                case (false, true):
                    fn++;
                    break;
                default:
                    tn++;
                    break;
            }
        }

        var positives = tp + fn;

        // The curve by falling threshold: each distinct probability is a threshold; average precision sums the
        // precision at every recall step (the area under the curve as scikit-learn computes it).
        var ordered = rows.OrderByDescending(r => r.P).ToList();
        var curve = new List<PrecisionRecallPoint>();
        double averagePrecision = 0, lastRecall = 0;
        int seen = 0, hits = 0;
        for (var i = 0; i < ordered.Count; i++)
        {
            seen++;
            hits += ordered[i].Label ? 1 : 0;
            if (i + 1 < ordered.Count && ordered[i + 1].P == ordered[i].P)
            {
                continue;
            }

            var precision = (double)hits / seen;
            var recall = positives == 0 ? 0 : (double)hits / positives;
            averagePrecision += (recall - lastRecall) * precision;
            lastRecall = recall;
            curve.Add(new PrecisionRecallPoint(ordered[i].P, precision, recall));
        }

        var p0 = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
        var r0 = positives == 0 ? 0 : (double)tp / positives;
        return new ClassificationEvaluation
        {
            Rows = rows.Count,
            Positives = positives,
            Threshold = threshold,
            Precision = p0,
            Recall = r0,
            F1 = p0 + r0 == 0 ? 0 : 2 * p0 * r0 / (p0 + r0),
            AveragePrecision = averagePrecision,
            TruePositives = tp,
            FalsePositives = fp,
            FalseNegatives = fn,
            TrueNegatives = tn,
            Curve = Sample(curve),
        };
    }

    /// <summary>Largest first, normalised to the largest; null when there is nothing to rank.</summary>
    public static IReadOnlyList<FeatureImportance>? Importance(IReadOnlyList<string> features, IReadOnlyList<float> importance)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(importance);
        var top = importance.Where(float.IsFinite).DefaultIfEmpty(0).Max();
        if (top <= 0 || features.Count != importance.Count)
        {
            return null;
        }

        return [.. features.Select((f, i) => new FeatureImportance(f, Math.Round(Math.Max(0, importance[i]) / top, 6))).OrderByDescending(f => f.Importance)];
    }

    /// <summary>Evenly spread rows (the first and the last kept), at most <see cref="MaxPoints"/>.</summary>
    private static List<T> Sample<T>(IReadOnlyList<T> rows)
    {
        if (rows.Count <= MaxPoints)
        {
            return [.. rows];
        }

        var sampled = new List<T>(MaxPoints);
        for (var i = 0; i < MaxPoints; i++)
        {
            sampled.Add(rows[(int)((long)i * (rows.Count - 1) / (MaxPoints - 1))]);
        }

        return sampled;
    }

    private static double Mae(List<PredictionPoint> rows) => rows.Average(r => Math.Abs(r.Predicted - r.Actual));

    private static double Rmse(List<PredictionPoint> rows) => Math.Sqrt(rows.Average(r => (r.Predicted - r.Actual) * (r.Predicted - r.Actual)));

    private static double Bias(List<PredictionPoint> rows) => rows.Average(r => r.Predicted - r.Actual);
}
