using PdM.Contracts.Registry;

namespace PdM.Registry.Consumers;

/// <summary>
/// Section <c>Registry:AutoPromoteTrainedModels</c>: the demo's shortcut from "trained" to "running at the gateway".
/// When on, a package registered from a training run is promoted at once, through the ordinary promotion code (roles,
/// four eyes, gates, signing, <see cref="ModelDeploymentRequested"/>), by <see cref="Approver"/> instead of a person.
/// Only the Development and Demo environments may turn it on: anywhere else the host refuses to start.
/// </summary>
public sealed class AutoPromoteTrainedModelsOptions
{
    public const string Section = "Registry:AutoPromoteTrainedModels";

    public bool Enabled { get; set; }

    public IReadOnlyList<string> SiteIds { get; set; } = [];

    public ModelStage Stage { get; set; } = ModelStage.Production;

    /// <summary>The approver on record (and in the audit log); never the uploader, so four eyes still holds.</summary>
    public string Approver { get; set; } = "demo-auto-approver";

    public static IReadOnlyList<string> Validate(AutoPromoteTrainedModelsOptions options, string environment)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled)
        {
            return [];
        }

        var problems = new List<string>();
        if (!string.Equals(environment, "Development", StringComparison.OrdinalIgnoreCase) && !string.Equals(environment, "Demo", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"Enabled=true promotes trained models without a person's approval and is allowed only in the Development or Demo environment, not in '{environment}'. Turn it off (Registry__AutoPromoteTrainedModels__Enabled=false) and promote through the API.");
        }

        if (options.SiteIds.Count == 0 || options.SiteIds.Any(string.IsNullOrWhiteSpace))
        {
            problems.Add("SiteIds must name at least one site");
        }

        if (options.Stage is not (ModelStage.Shadow or ModelStage.Production))
        {
            problems.Add($"Stage must be Shadow or Production, not {options.Stage}");
        }

        if (string.IsNullOrWhiteSpace(options.Approver) || options.Approver.Length > 128 || options.Approver.StartsWith("training-run:", StringComparison.Ordinal))
        {
            problems.Add("Approver must be a user name of at most 128 characters (not a training run)");
        }

        return problems;
    }
}
