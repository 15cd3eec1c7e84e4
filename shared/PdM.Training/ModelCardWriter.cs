using System.Globalization;
using System.Text;

namespace PdM.Training;

/// <summary>The facts a model card reports; written as Markdown by <see cref="ModelCardWriter"/>.</summary>
public sealed record ModelCard
{
    public required string Title { get; init; }

    public required string RunId { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required TrainingSet Set { get; init; }

    public required TrainedTreeModel Model { get; init; }

    /// <summary>How the label was defined (e.g. the RUL cap), one sentence.</summary>
    public required string LabelDefinition { get; init; }

    public RulCvResult? RulCv { get; init; }

    public ClassificationCvResult? ClassificationCv { get; init; }

    public TimeSpan TrainingTime { get; init; }

    /// <summary>Extra lines (test-set figures, comparisons), already formatted Markdown.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

public static class ModelCardWriter
{
    public static string Render(ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        var o = card.Model.Options;
        sb.Append(c, $"# Model card — {card.Title}\n\n");
        sb.Append(c, $"| | |\n|---|---|\n");
        sb.Append(c, $"| training run | `{card.RunId}` |\n");
        sb.Append(c, $"| created | {card.CreatedAt:yyyy-MM-dd'T'HH:mm:ss'Z'} |\n");
        sb.Append(c, $"| dataset | `{card.Set.DatasetName}`, sha256 `{card.Set.DatasetSha256}` |\n");
        sb.Append(c, $"| task | {o.Task} |\n");
        sb.Append(c, $"| algorithm | ML.NET {o.Algorithm}: {o.NumberOfTrees} trees, {o.NumberOfLeaves} leaves, min {o.MinimumExampleCountPerLeaf} rows per leaf, learning rate {o.LearningRate}, seed {o.Seed}, {o.Threads} thread(s) |\n");
        var derived = card.Set.Derived.Count == 0 ? string.Empty
            : string.Create(c, $" + {card.Set.Derived.Count} derived in the ONNX graph ({string.Join(", ", card.Set.Derived.Select(d => d.Name))})");
        sb.Append(c, $"| rows | {card.Set.Examples.Count} feature vectors, {card.Set.FeatureCount} features{derived} |\n");
        sb.Append(c, $"| feature window | {card.Set.Spec.Window} (PdM.Features spec; carried in the package) |\n");
        sb.Append(c, $"| label | {card.LabelDefinition} |\n");
        sb.Append(c, $"| training time | {card.TrainingTime.TotalSeconds:F1} s (features + final fit) |\n");
        sb.Append(c, $"| export | ONNX IR {OnnxTreeExporter.IrVersion}, ai.onnx {OnnxTreeExporter.OnnxOpset}, ai.onnx.ml {OnnxTreeExporter.OnnxMlOpset} (TreeEnsembleRegressor{(o.Task == TrainingTask.FailureClassification ? " + Sigmoid with the Platt calibration folded in" : string.Empty)}) |\n\n");

        if (card.RulCv is { } rul)
        {
            sb.Append("## Evaluation\n\n");
            sb.Append(c, $"{rul.CutRule}. Labels capped at {rul.RulCap}.\n\n");
            sb.Append(c, $"| metric | value |\n|---|---:|\n| RMSE at the cut ({rul.Points.Count} engines) | {rul.Rmse:F2} |\n| PHM08 score (sum over engines) | {rul.Score:F1} |\n| RMSE over every held-out window (capped label) | {rul.AllWindowsRmse:F2} |\n\n");
            sb.Append("Predicted vs true RUL at each held-out engine's cut (diagonal = perfect; above it = late, costly):\n\n");
            sb.Append(ScatterSvg(rul.Points)).Append("\n\n");
        }

        if (card.ClassificationCv is { } cls)
        {
            var m = cls.Metrics;
            sb.Append("## Evaluation\n\n");
            sb.Append(c, $"{cls.Folds.Count}-fold stratified CV (seed {o.Seed}); failure class, threshold {cls.Threshold}.\n\n");
            sb.Append(c, $"| precision | recall | F1 | PR-AUC | TP | FP | FN | TN |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            sb.Append(c, $"| {m.Precision:F4} | {m.Recall:F4} | {m.F1:F4} | {m.PrAuc:F4} | {m.TruePositives} | {m.FalsePositives} | {m.FalseNegatives} | {m.TrueNegatives} |\n\n");
        }

        foreach (var note in card.Notes)
        {
            sb.Append(note).Append('\n');
        }

        if (card.Notes.Count > 0)
        {
            sb.Append('\n');
        }

        sb.Append("## Feature importance (ML.NET gain, normalised to the largest)\n\n| feature | importance |\n|---|---:|\n");
        var importance = card.Model.FeatureImportance;
        var order = new int[importance.Count];
        var top = 0f;
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
            top = Math.Max(top, importance[i]);
        }

        Array.Sort(order, (a, b) => importance[b].CompareTo(importance[a]));
        for (var i = 0; i < Math.Min(15, order.Length); i++)
        {
            sb.Append(c, $"| {card.Model.ColumnNames[order[i]]} | {(top > 0 ? importance[order[i]] / top : 0):F3} |\n");
        }

        return sb.ToString();
    }

    /// <summary>An inline SVG scatter plot of predicted against true RUL with the y = x diagonal.</summary>
    public static string ScatterSvg(IReadOnlyList<RulCvPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        const double size = 360, margin = 40;
        var max = 10.0;
        foreach (var p in points)
        {
            max = Math.Max(max, Math.Max(p.TrueRul, p.PredictedRul));
        }

        max = Math.Ceiling(max / 25) * 25;
        double X(double v) => margin + (v / max * size);
        double Y(double v) => margin + size - (v / max * size);
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{size + (2 * margin)}\" height=\"{size + (2 * margin)}\" viewBox=\"0 0 {size + (2 * margin)} {size + (2 * margin)}\" font-family=\"sans-serif\" font-size=\"11\">");
        sb.Append(c, $"<rect x=\"{margin}\" y=\"{margin}\" width=\"{size}\" height=\"{size}\" fill=\"white\" stroke=\"#444\"/>");
        for (var t = 0.0; t <= max; t += 25)
        {
            sb.Append(c, $"<line x1=\"{X(t):F1}\" y1=\"{Y(0):F1}\" x2=\"{X(t):F1}\" y2=\"{Y(0) + 4:F1}\" stroke=\"#444\"/><text x=\"{X(t):F1}\" y=\"{Y(0) + 16:F1}\" text-anchor=\"middle\">{t:F0}</text>");
            sb.Append(c, $"<line x1=\"{X(0) - 4:F1}\" y1=\"{Y(t):F1}\" x2=\"{X(0):F1}\" y2=\"{Y(t):F1}\" stroke=\"#444\"/><text x=\"{X(0) - 6:F1}\" y=\"{Y(t) + 4:F1}\" text-anchor=\"end\">{t:F0}</text>");
        }

        sb.Append(c, $"<line x1=\"{X(0):F1}\" y1=\"{Y(0):F1}\" x2=\"{X(max):F1}\" y2=\"{Y(max):F1}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>");
        foreach (var p in points)
        {
            sb.Append(c, $"<circle cx=\"{X(p.TrueRul):F1}\" cy=\"{Y(Math.Max(0, p.PredictedRul)):F1}\" r=\"3\" fill=\"#1f77b4\" fill-opacity=\"0.7\"><title>{p.Asset}: true {p.TrueRul:F0}, predicted {p.PredictedRul:F1}</title></circle>");
        }

        sb.Append(c, $"<text x=\"{margin + (size / 2)}\" y=\"{size + (2 * margin) - 6}\" text-anchor=\"middle\">true RUL (cycles)</text>");
        sb.Append(c, $"<text x=\"12\" y=\"{margin + (size / 2)}\" text-anchor=\"middle\" transform=\"rotate(-90 12 {margin + (size / 2)})\">predicted RUL (cycles)</text>");
        sb.Append("</svg>");
        return sb.ToString();
    }
}
