using System.Globalization;
using System.Text;
using PdM.Contracts.Maintenance;

namespace PdM.Maintenance.Cmms;

/// <summary>The human text of a work order: a short title each CMMS can hold, and the narrative with the evidence.</summary>
internal static class WorkOrderText
{
    public static string Title(CanonicalWorkOrder w, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(w);
        var item = w.Asset.MaintainableItem ?? w.Asset.Id;
        var rul = w.Prognosis.RulHours is { } hours ? string.Create(CultureInfo.InvariantCulture, $", RUL ~{hours.P50:0} h") : "";
        return HttpResponses.Clip($"PdM: {w.Failure.Mode} {item}{rul}", maxLength);
    }

    public static string Narrative(CanonicalWorkOrder w)
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
        return text.ToString();
    }

    private static string Number(double? value) => value is { } v ? v.ToString("0.#", CultureInfo.InvariantCulture) : "n/a";
}
