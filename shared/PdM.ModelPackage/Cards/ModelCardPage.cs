using System.Globalization;
using System.Net;
using System.Text;

namespace PdM.ModelPackage.Cards;

/// <summary>
/// A card as one self-contained HTML page for an approver: the facts, the numbers, every figure inline (SVG), the
/// rules' figures on the same rows (or why there are none), and the gateways' shadow agreement over time. No script
/// and nothing fetched: it renders the same from the registry, from a saved file, or printed.
/// </summary>
public static class ModelCardPage
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <param name="facts">Registry facts shown first (digest, uploader, approver, stages), in order.</param>
    public static string Render(ModelCardDocument card, IReadOnlyList<(string Label, string Value)> facts, IReadOnlyList<ShadowAgreementPoint> shadow)
    {
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(shadow);
        var html = new StringBuilder();
        var title = $"Model card — {card.ModelName} {card.ModelVersion}";
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append(C, $"<title>{E(title)}</title>");
        html.Append("<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:0.5em 0}"
            + "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f4f4f4}figure{display:inline-block;margin:0.5em}"
            + "figcaption{max-width:480px;font-size:0.85em;color:#555}.note{color:#555}</style></head><body>");
        html.Append(C, $"<h1>{E(title)}</h1>");
        html.Append("<table class=\"facts\">");
        Row(html, "asset class", card.AssetClass);
        Row(html, "made by", card.Source);
        Row(html, "card written", card.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", C));
        foreach (var (label, value) in facts)
        {
            Row(html, label, value);
        }

        html.Append("</table>");
        html.Append("<h2>Evaluation</h2>");
        html.Append(C, $"<p>{E(card.EvaluatedOn)}</p>");
        if (card.Regression is { } r)
        {
            html.Append("<table class=\"metrics\"><tr><th>rows</th><th>RMSE</th><th>MAE</th><th>bias (predicted − actual)</th></tr>");
            html.Append(C, $"<tr><td>{r.Rows}</td><td>{r.Rmse:0.##} {E(r.Unit)}</td><td>{r.Mae:0.##} {E(r.Unit)}</td><td>{r.Bias:0.##} {E(r.Unit)}</td></tr></table>");
            html.Append("<table class=\"bands\"><tr><th>actual RUL</th><th>rows</th><th>MAE</th><th>RMSE</th><th>bias</th></tr>");
            foreach (var b in r.Bands)
            {
                var band = b.To is { } to ? string.Create(C, $"{b.From:0}–{to:0}") : string.Create(C, $"≥ {b.From:0}");
                html.Append(C, $"<tr><td>{E(band)}</td><td>{b.Rows}</td><td>{b.Mae:0.##}</td><td>{b.Rmse:0.##}</td><td>{b.Bias:0.##}</td></tr>");
            }

            html.Append("</table>");
        }

        if (card.Classification is { } c)
        {
            html.Append("<table class=\"metrics\"><tr><th>rows</th><th>failures</th><th>threshold</th><th>precision</th><th>recall</th><th>F1</th><th>average precision</th><th>TP</th><th>FP</th><th>FN</th><th>TN</th></tr>");
            html.Append(C, $"<tr><td>{c.Rows}</td><td>{c.Positives}</td><td>{c.Threshold:0.###}</td><td>{c.Precision:0.###}</td><td>{c.Recall:0.###}</td><td>{c.F1:0.###}</td><td>{c.AveragePrecision:0.###}</td><td>{c.TruePositives}</td><td>{c.FalsePositives}</td><td>{c.FalseNegatives}</td><td>{c.TrueNegatives}</td></tr></table>");
        }

        if (card.Regression is null && card.Classification is null)
        {
            html.Append("<p class=\"note\">No labelled rows were evaluated: there is nothing to compare the model's answers with.</p>");
        }

        foreach (var figure in ModelCardFigures.Of(card))
        {
            Figure(html, figure);
        }

        html.Append("<h2>The rules on the same rows</h2>");
        if (card.Rules is { } rules)
        {
            Rules(html, rules);
        }

        if (card.RulesNote is not null || card.Rules is null)
        {
            html.Append(C, $"<p class=\"note\">{E(card.RulesNote ?? "Not evaluated.")}</p>");
        }

        if (card.FeatureImportance is null)
        {
            html.Append("<h2>Feature importance</h2>");
            html.Append(C, $"<p class=\"note\">{E(card.FeatureImportanceNote ?? "The model does not expose it.")}</p>");
        }

        html.Append("<h2>Shadow agreement over time</h2>");
        var compared = shadow.Sum(s => s.ComparedRows);
        var agreed = shadow.Sum(s => s.AgreedRows);
        if (ModelCardFigures.ShadowAgreement(shadow) is { } agreement)
        {
            html.Append(C, $"<p>{shadow.Count} report(s) from the gateways: {agreed} of {compared} compared rows agreed ({(double)agreed / compared:0.###}).</p>");
            Figure(html, agreement);
        }
        else
        {
            html.Append("<p class=\"note\">No gateway has reported shadow statistics for this version yet: deploy it in Shadow beside a site's production model and this fills in as reports arrive.</p>");
        }

        html.Append("</body></html>\n");
        return html.ToString();
    }

    /// <summary>The rules beside the model on the rows the rules could be evaluated on, and per band for a RUL model.</summary>
    private static void Rules(StringBuilder html, RulesEvaluation rules)
    {
        html.Append(C, $"<p>Ruleset <code>{E(rules.Ruleset)}</code> evaluated on {rules.Rows} row(s); truth: {E(rules.Truth)}.");
        if (rules.HorizonRul is { } horizon)
        {
            html.Append(C, $" Horizon {horizon:0.##}: {E(rules.HorizonSource ?? string.Empty)}.");
        }

        html.Append("</p>");
        html.Append("<table class=\"rules\"><tr><th></th><th>flags a row when</th><th>precision</th><th>recall</th><th>F1</th><th>TP</th><th>FP</th><th>FN</th><th>TN</th></tr>");
        Counts(html, "model", rules.ModelFlagWhen, rules.ModelCounts);
        Counts(html, "rules", rules.RulesFlagWhen, rules.RulesCounts);
        html.Append("</table>");
        if (rules.Bands is { Count: > 0 } bands)
        {
            html.Append("<table class=\"rules-bands\"><tr><th>actual RUL</th><th>rows</th><th>rules flag</th><th>model flags</th></tr>");
            foreach (var b in bands)
            {
                html.Append(C, $"<tr><td>{E(ModelCardFigures.Band(b.From, b.To))}</td><td>{b.Rows}</td><td>{b.RulesFlagged} ({Share(b.RulesFlagged, b.Rows)})</td><td>{b.ModelFlagged} ({Share(b.ModelFlagged, b.Rows)})</td></tr>");
            }

            html.Append("</table>");
        }
    }

    private static void Counts(StringBuilder html, string who, string when, ConfusionCounts counts) =>
        html.Append(C, $"<tr><th>{E(who)}</th><td>{E(when)}</td><td>{counts.Precision:0.###}</td><td>{counts.Recall:0.###}</td><td>{counts.F1:0.###}</td><td>{counts.TruePositives}</td><td>{counts.FalsePositives}</td><td>{counts.FalseNegatives}</td><td>{counts.TrueNegatives}</td></tr>");

    private static string Share(int part, int whole) => whole == 0 ? "–" : ((double)part / whole).ToString("0%", C);

    private static void Row(StringBuilder html, string label, string value) =>
        html.Append(C, $"<tr><th>{E(label)}</th><td>{E(value)}</td></tr>");

    private static void Figure(StringBuilder html, CardFigure figure) =>
        html.Append(C, $"<figure id=\"{E(figure.Name)}\">{figure.Svg}<figcaption>{E(figure.Caption)}</figcaption></figure>");

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
