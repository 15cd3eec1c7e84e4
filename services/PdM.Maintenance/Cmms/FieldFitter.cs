namespace PdM.Maintenance.Cmms;

/// <summary>
/// Fits texts into one CMMS's published field lengths and counts every fitted field
/// (<c>pdm.maintenance.cmms_fields_fitted{system,field}</c>): a long asset name or evidence list shortens a field, it never
/// makes the CMMS refuse the record.
/// </summary>
internal sealed class FieldFitter(MaintenanceTelemetry telemetry, string system)
{
    /// <summary>A short text field (title, description): cut on a word boundary.</summary>
    public string Words(string field, string text, int maxLength) =>
        Count(field, WorkOrderText.Words(text, maxLength, out var fitted), fitted);

    /// <summary>A long text field: whole lines kept, then a line saying the rest is in PdM under <paramref name="reference"/>.</summary>
    public string Lines(string field, string text, int maxLength, string reference) =>
        Count(field, WorkOrderText.Lines(text, maxLength, $"\u2026 (shortened to fit {field}; the full text is in PdM, reference {reference})", out var fitted), fitted);

    private string Count(string field, string value, bool fitted)
    {
        if (fitted)
        {
            telemetry.CmmsFieldsFitted.Add(1, new KeyValuePair<string, object?>("system", system), new KeyValuePair<string, object?>("field", field));
        }

        return value;
    }
}
