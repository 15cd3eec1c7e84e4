using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.Extensions.Options;
using PdM.Contracts.Registry;
using PdM.Security;

namespace PdM.Demo;

/// <summary>
/// The demo's approver (<see cref="DemoApprovalOptions"/>): hears that a version registered from a training run is a
/// Candidate and promotes it with <c>POST /api/models/{name}/versions/{version}/promote</c> under its own identity,
/// as a person would with <c>pdm model promote</c>: to its configured stage while the sites have no Production model
/// of the asset class, to Shadow (a challenger) once they have. The registry applies its ordinary rules (role, four eyes against
/// the uploader, gates, signing) and records this approver in the audit log. A refusal is logged, not retried; a
/// registry that cannot be reached throws, so the bus redelivers.
/// </summary>
public sealed partial class DemoApprover(IOptions<DemoApprovalOptions> options, DemoApi api, ILogger<DemoApprover> logger) : IConsumer<ModelVersionRegistered>
{
    public async Task Consume(ConsumeContext<ModelVersionRegistered> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = options.Value;
        var version = context.Message;
        if (!settings.Enabled || version.TrainingRunId is not { } runId)
        {
            return;
        }

        // A version the plant already has a Production model for (of its asset class) is a challenger: it goes to Shadow,
        // where the gateway scores it beside production without letting it decide, and earns the evidence the registry
        // wants before it may replace that model. Promoting it to Production now would be refused, and is not waived.
        var production = await ProductionAtSitesAsync(version, settings, context.CancellationToken);
        var stage = production is null ? settings.Stage : ModelStage.Shadow;

        // A first Production model at a site needs the site's shadow evidence, which a one-minute demo does not have (the
        // plant has no Production model to shadow it against): the demo's approver is also an admin and waives it with
        // a reason, which the registry logs and the audit log keeps, as a real admin would have to. Shadow is a data
        // scientist's stage in the registry (it never decides, so no second person signs it): the approver carries that
        // role for it.
        var waiver = stage == ModelStage.Production ? ShadowWaiver : null;
        using var approver = stage == ModelStage.Shadow
            ? api.As(settings.Approver, PdMRoles.Approver, PdMRoles.DataScientist)
            : waiver is null ? api.As(settings.Approver, PdMRoles.Approver) : api.As(settings.Approver, PdMRoles.Approver, PdMRoles.Admin);
        var path = string.Create(CultureInfo.InvariantCulture,
            $"api/models/{Uri.EscapeDataString(version.ModelName)}/versions/{Uri.EscapeDataString(version.ModelVersion)}/promote");
        var sites = new JsonArray();
        foreach (var site in settings.SiteIds)
        {
            sites.Add(site);
        }

        using var response = await approver.PostAsJsonAsync(path, new JsonObject { ["stage"] = stage.ToString(), ["siteIds"] = sites, ["shadowOverrideReason"] = waiver }, context.CancellationToken);
        if (response.IsSuccessStatusCode)
        {
            if (production is not null)
            {
                LogShadowed(logger, version.ModelName, version.ModelVersion, runId, settings.SiteIds, settings.Approver, production);
            }
            else
            {
                LogApproved(logger, version.ModelName, version.ModelVersion, runId, stage, settings.SiteIds, settings.Approver);
            }

            return;
        }

        var body = await response.Content.ReadAsStringAsync(context.CancellationToken);
        if (response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout)
        {
            throw new HttpRequestException($"the registry answered {(int)response.StatusCode}: {body}", null, response.StatusCode);
        }

        LogRefused(logger, version.ModelName, version.ModelVersion, (int)response.StatusCode, body);
    }

    /// <summary>
    /// The version (<c>name@version</c>) of the same asset class already in Production at one of the approver's sites, as
    /// the registry's API shows it; null when there is none. A registry that cannot be reached throws (the bus redelivers).
    /// </summary>
    private async Task<string?> ProductionAtSitesAsync(ModelVersionRegistered version, DemoApprovalOptions settings, CancellationToken cancellationToken)
    {
        using var reader = api.As(settings.Approver, PdMRoles.Approver);
        var models = await reader.GetFromJsonAsync<JsonArray>("api/models", cancellationToken) ?? [];
        foreach (var model in models)
        {
            if (model?["assetClass"]?.GetValue<string>() != version.AssetClass || model["name"]?.GetValue<string>() is not { } name)
            {
                continue;
            }

            var versions = await reader.GetFromJsonAsync<JsonArray>($"api/models/{Uri.EscapeDataString(name)}/versions", cancellationToken) ?? [];
            foreach (var other in versions)
            {
                if (other is null || (name == version.ModelName && other["version"]?.GetValue<string>() == version.ModelVersion))
                {
                    continue;
                }

                var inProduction = (other["sites"] as JsonArray ?? []).Any(s => s?["stage"]?.GetValue<string>() == nameof(ModelStage.Production)
                    && settings.SiteIds.Contains(s["siteId"]?.GetValue<string>() ?? "", StringComparer.Ordinal));
                if (inProduction)
                {
                    return $"{name}@{other["version"]?.GetValue<string>()}";
                }
            }
        }

        return null;
    }

    internal const string ShadowWaiver = "PdM.Demo: first model at the demo plant, approved without a shadow period (demo only)";

    [LoggerMessage(EventId = 9111, Level = LogLevel.Warning,
        Message = "DEMO AUTO-APPROVAL: {ModelName}@{ModelVersion} (training run {RunId}) promoted to {Stage} at {Sites} by '{Approver}' without a person's review (PdM.Demo's approver, through the registry's promotion API)")]
    private static partial void LogApproved(ILogger logger, string modelName, string modelVersion, Guid runId, ModelStage stage, IReadOnlyList<string> sites, string approver);

    [LoggerMessage(EventId = 9113, Level = LogLevel.Information,
        Message = "Demo: challenger {ModelName}@{ModelVersion} (training run {RunId}) put in Shadow at {Sites} by '{Approver}' beside {Production}: the gateway scores it on the same windows without letting it decide (pdm_models_shadow_*, ShadowEvaluationReported); promoting it to Production takes that shadow evidence and a person's approval")]
    private static partial void LogShadowed(ILogger logger, string modelName, string modelVersion, Guid runId, IReadOnlyList<string> sites, string approver, string production);

    [LoggerMessage(EventId = 9112, Level = LogLevel.Warning, Message = "Demo auto-approval of {ModelName}@{ModelVersion} refused by the registry: {Status} {Detail}")]
    private static partial void LogRefused(ILogger logger, string modelName, string modelVersion, int status, string detail);
}
