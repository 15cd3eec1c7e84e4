using System.Globalization;

namespace PdM.ModelPackage.Cards;

/// <summary>One figure of a card: a file name (<c>card/{Name}.svg</c> in a package), a caption and the SVG.</summary>
public sealed record CardFigure(string Name, string Caption, string Svg);

/// <summary>One shadow report of a gateway about the version: what the agreement-over-time figure is drawn from.</summary>
public sealed record ShadowAgreementPoint(DateTimeOffset PeriodEnd, string? SiteId, long ComparedRows, long AgreedRows);

/// <summary>The figures of a card, from its numbers (and, in the registry, the gateways' shadow reports).</summary>
public static class ModelCardFigures
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static IReadOnlyList<CardFigure> Of(ModelCardDocument card)
    {
        ArgumentNullException.ThrowIfNull(card);
        var figures = new List<CardFigure>();
        if (card.Regression is { } r)
        {
            figures.Add(new CardFigure("predicted-vs-actual", $"Predicted against actual remaining life over {r.Rows} rows (diagonal = perfect; above it the model is late)",
                SvgPlot.Scatter("predicted-vs-actual", "Predicted vs actual RUL", $"actual RUL ({r.Unit})", $"predicted RUL ({r.Unit})",
                    [.. r.Points.Select(p => (p.Actual, p.Predicted, string.Create(C, $"actual {SvgPlot.Number(p.Actual)}, predicted {SvgPlot.Number(p.Predicted)}")))], diagonal: true)));
            figures.Add(new CardFigure("error-by-rul-band", "Mean absolute error per band of actual remaining life: the bands near failure are the ones that raise work orders",
                SvgPlot.Bars("error-by-rul-band", "Error by remaining-life band", $"actual RUL ({r.Unit})", $"MAE ({r.Unit})",
                    [.. r.Bands.Select(b => (Band(b), b.Mae, string.Create(C, $"{Band(b)}: {b.Rows} rows, MAE {SvgPlot.Number(b.Mae)}, RMSE {SvgPlot.Number(b.Rmse)}, bias {SvgPlot.Number(b.Bias)}")))])));
            if (card.Rules is { Bands: { Count: > 0 } rulesBands } rules)
            {
                figures.Add(new CardFigure("rules-flagged-by-rul-band", string.Create(C, $"Share of rows the rules flag ({rules.RulesFlagWhen}) per band of actual remaining life, on the same rows as the error figure; due = {rules.Truth}"),
                    SvgPlot.Bars("rules-flagged-by-rul-band", "Rules: share flagged by remaining-life band", $"actual RUL ({r.Unit})", "share of rows flagged",
                        [.. rulesBands.Select(b => (Band(b.From, b.To), b.Rows == 0 ? 0 : (double)b.RulesFlagged / b.Rows,
                            string.Create(C, $"{Band(b.From, b.To)}: rules flag {b.RulesFlagged} of {b.Rows} rows, the model {b.ModelFlagged}")))])));
            }
        }

        if (card.Classification is { } c)
        {
            figures.Add(new CardFigure("precision-recall", string.Create(C, $"Precision against recall of the failure class as the threshold falls ({c.Positives} failures in {c.Rows} rows; average precision {c.AveragePrecision:0.###})"),
                SvgPlot.Lines("precision-recall", "Precision–recall curve", "recall", "precision",
                    [("model", c.Curve.Select(p => (X: p.Recall, Y: p.Precision)).ToList())], yMin: 0, yMax: 1,
                    marked: card.Rules is { } rules
                        ? [(string.Create(C, $"model at {c.Threshold:0.###}"), c.Recall, c.Precision), ("rules", rules.RulesCounts.Recall, rules.RulesCounts.Precision)]
                        : null)));
        }

        if (card.FeatureImportance is { Count: > 0 } importance)
        {
            var top = importance.Take(15).ToList();
            figures.Add(new CardFigure("feature-importance", $"The {top.Count} features the model leans on most (normalised to the largest)",
                SvgPlot.Bars("feature-importance", "Feature importance", "feature", "importance",
                    [.. top.Select(f => (f.Feature, f.Importance, string.Create(C, $"{f.Feature}: {f.Importance:0.###}")))])));
        }

        return figures;
    }

    /// <summary>The share of compared rows on which the version agreed with production, per site, report by report.</summary>
    public static CardFigure? ShadowAgreement(IReadOnlyList<ShadowAgreementPoint> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var series = reports.Where(r => r.ComparedRows > 0)
            .GroupBy(r => r.SiteId ?? "unknown site", StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Series: g.Key, Points: (IReadOnlyList<(double X, double Y)>)g.OrderBy(r => r.PeriodEnd)
                .Select(r => (X: (double)r.PeriodEnd.ToUnixTimeSeconds(), Y: (double)r.AgreedRows / r.ComparedRows)).ToList()))
            .ToList();
        if (series.Count == 0)
        {
            return null;
        }

        return new CardFigure("shadow-agreement", "Share of rows on which the version, in shadow, agreed with the site's production decision, per report",
            SvgPlot.Lines("shadow-agreement", "Shadow agreement over time", "report end (UTC)", "agreement", series, yMin: 0, yMax: 1,
                xTick: t => DateTimeOffset.FromUnixTimeSeconds((long)t).UtcDateTime.ToString("MM-dd HH:mm", C)));
    }

    /// <summary>Writes <c>model-card.json</c> and <c>card/*.svg</c> into a package directory.</summary>
    public static IReadOnlyList<string> WriteInto(string packageDirectory, ModelCardDocument card)
    {
        ArgumentNullException.ThrowIfNull(packageDirectory);
        ArgumentNullException.ThrowIfNull(card);
        var written = new List<string>();
        var json = Path.Combine(packageDirectory, ModelCardDocument.FileName);
        File.WriteAllBytes(json, card.ToUtf8Json());
        written.Add(json);
        var folder = Path.Combine(packageDirectory, "card");
        Directory.CreateDirectory(folder);
        foreach (var figure in Of(card))
        {
            var path = Path.Combine(folder, figure.Name + ".svg");
            File.WriteAllText(path, figure.Svg);
            written.Add(path);
        }

        return written;
    }

    private static string Band(ErrorBand band) => Band(band.From, band.To);

    /// <summary>A band of remaining life as the figures and the page label it.</summary>
    public static string Band(double from, double? to) => to is { } end
        ? string.Create(C, $"{SvgPlot.Number(from)}–{SvgPlot.Number(end)}")
        : string.Create(C, $"≥ {SvgPlot.Number(from)}");
}
