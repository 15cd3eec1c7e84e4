using System.Globalization;
using System.Text;
using PdM.Contracts.Maintenance;

namespace PdM.Maintenance.Cmms;

/// <summary>
/// The human text of a work order: a title, the narrative with the evidence, and the rules that fit them into the fields
/// each CMMS publishes (<see cref="Words"/>, <see cref="Lines"/>). Lengths are counted in UTF-16 code units, as SAP's
/// and Maximo's character fields count them, and a cut never splits a surrogate pair.
/// </summary>
internal static class WorkOrderText
{
    private const char Ellipsis = '\u2026';

    /// <summary>The full title; each adapter fits it to its short-text field and repeats it in the long text.</summary>
    public static string Title(CanonicalWorkOrder w)
    {
        ArgumentNullException.ThrowIfNull(w);
        var item = w.Asset.MaintainableItem ?? w.Asset.Id;
        var rul = w.Prognosis.RulHours is { } hours ? string.Create(CultureInfo.InvariantCulture, $", RUL ~{hours.P50:0} h") : "";
        return $"PdM: {w.Failure.Mode} {item}{rul}";
    }

    /// <summary>
    /// <paramref name="text"/> if it fits in <paramref name="maxLength"/>; otherwise cut after the last whole word that
    /// leaves room for an ellipsis (mid-word only when a single word is longer than half the field).
    /// </summary>
    public static string Words(string text, int maxLength, out bool fitted)
    {
        ArgumentNullException.ThrowIfNull(text);
        fitted = text.Length > maxLength;
        if (!fitted)
        {
            return text;
        }

        var room = maxLength - 1;
        var cut = text.LastIndexOf(' ', room);
        if (cut < maxLength / 2)
        {
            cut = room;
        }

        return Safe(text, cut).TrimEnd(' ', ',', ';', ':', '-') + Ellipsis;
    }

    /// <summary>
    /// <paramref name="text"/> if it fits in <paramref name="maxLength"/>; otherwise its first whole lines followed by
    /// <paramref name="marker"/> on a line of its own, so a reader sees that and where the text was shortened.
    /// </summary>
    public static string Lines(string text, int maxLength, string marker, out bool fitted)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(marker);
        fitted = text.Length > maxLength;
        if (!fitted)
        {
            return text;
        }

        var room = maxLength - marker.Length - 1;
        var cut = text.LastIndexOf('\n', Math.Max(0, room));
        var head = cut > 0 ? text[..cut] : Words(text, Math.Max(1, room), out _);
        return $"{head}\n{marker}";
    }

    /// <summary>The first <paramref name="length"/> UTF-16 units, one fewer if that would split a surrogate pair.</summary>
    private static string Safe(string text, int length) =>
        length > 0 && length < text.Length && char.IsHighSurrogate(text[length - 1]) ? text[..(length - 1)] : text[..length];

    public static string Narrative(CanonicalWorkOrder w, string? reference = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        var text = new StringBuilder(512);
        var inv = CultureInfo.InvariantCulture;
        text.Append(inv, $"Predicted failure: asset {w.Asset.Id}");
        if (w.Asset.EquipmentClass is not null)
        {
            text.Append(inv, $" (class {w.Asset.EquipmentClass}");
            text.Append(w.Asset.MaintainableItem is null ? ")" : $", item {w.Asset.MaintainableItem})");
        }

        text.Append(inv, $", failure mode {w.Failure.Mode}");
        if (w.Failure.Mechanism is not null)
        {
            text.Append(inv, $", mechanism {w.Failure.Mechanism}");
        }

        text.Append(inv, $", severity {w.Failure.Severity}, detected by {w.Failure.Detection}.\n");
        if (w.Prognosis.RulHours is { } h)
        {
            text.Append(inv, $"RUL (hours): P10 {Number(h.P10)}, P50 {Number(h.P50)}, P90 {Number(h.P90)}");
            if (w.Prognosis.PredictedFailureAt is { } at)
            {
                text.Append(inv, $"; predicted failure {at.UtcDateTime:yyyy-MM-dd HH:mm}Z");
            }

            text.Append(".\n");
        }
        else if (w.Prognosis.RulCycles is { } c)
        {
            text.Append(inv, $"RUL (cycles): P10 {Number(c.P10)}, P50 {Number(c.P50)}, P90 {Number(c.P90)}.\n");
        }

        var model = w.Prognosis.Model;
        text.Append(inv, $"Confidence {w.Prognosis.Confidence:0.00}, decided by {model.Path} {model.Name} {model.Version}");
        if (model.Rule is not null)
        {
            text.Append(inv, $" rule {model.Rule}");
        }

        text.Append(inv, $" on gateway {model.GatewayId}.\nEvidence:\n");
        foreach (var e in w.Evidence)
        {
            text.Append(inv, $"- {e.Signal} {e.Value:0.###} {e.Unit}");
            if (e.Limit is { } limit)
            {
                text.Append(inv, $" (limit {limit:0.###})");
            }

            text.Append(inv, $" over {e.From.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z..{e.To.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z from {e.Source}\n");
        }

        var r = w.Recommendation;
        text.Append(inv, $"Recommended: {r.Activity}: {r.Text}; priority {r.Priority}; finish by {r.LatestFinish.UtcDateTime:yyyy-MM-dd HH:mm}Z");
        if (r.EstHours is { } est)
        {
            text.Append(inv, $"; est. {est:0.#} h");
        }

        text.Append(inv, $".\nPredictions folded in: {w.PredictionCount}. PdM key: {w.ExternalKey}");
        if (reference is not null)
        {
            text.Append(inv, $" (CMMS reference {reference})");
        }

        return text.ToString();
    }

    private static string Number(double? value) => value is { } v ? v.ToString("0.#", CultureInfo.InvariantCulture) : "n/a";
}
