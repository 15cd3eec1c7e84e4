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
/// as a person would with <c>pdm model promote</c>. The registry applies its ordinary rules (role, four eyes against
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

        // A first Production model at a site needs the site's shadow evidence, which a one-minute demo does not have (the
        // plant has no Production model to shadow it against): the demo's approver is also an admin and waives it with
        // a reason, which the registry logs and the audit log keeps, as a real admin would have to.
        var waiver = settings.Stage == ModelStage.Production ? ShadowWaiver : null;
        using var approver = waiver is null ? api.As(settings.Approver, PdMRoles.Approver) : api.As(settings.Approver, PdMRoles.Approver, PdMRoles.Admin);
        var path = string.Create(CultureInfo.InvariantCulture,
            $"api/models/{Uri.EscapeDataString(version.ModelName)}/versions/{Uri.EscapeDataString(version.ModelVersion)}/promote");
        var sites = new JsonArray();
        foreach (var site in settings.SiteIds)
        {
            sites.Add(site);
        }

        using var response = await approver.PostAsJsonAsync(path, new JsonObject { ["stage"] = settings.Stage.ToString(), ["siteIds"] = sites, ["shadowOverrideReason"] = waiver }, context.CancellationToken);
        if (response.IsSuccessStatusCode)
        {
            LogApproved(logger, version.ModelName, version.ModelVersion, runId, settings.Stage, settings.SiteIds, settings.Approver);
            return;
        }

        var body = await response.Content.ReadAsStringAsync(context.CancellationToken);
        if (response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout)
        {
            throw new HttpRequestException($"the registry answered {(int)response.StatusCode}: {body}", null, response.StatusCode);
        }

        LogRefused(logger, version.ModelName, version.ModelVersion, (int)response.StatusCode, body);
    }

    internal const string ShadowWaiver = "PdM.Demo: first model at the demo plant, approved without a shadow period (demo only)";

    [LoggerMessage(EventId = 9111, Level = LogLevel.Warning,
        Message = "DEMO AUTO-APPROVAL: {ModelName}@{ModelVersion} (training run {RunId}) promoted to {Stage} at {Sites} by '{Approver}' without a person's review (PdM.Demo's approver, through the registry's promotion API)")]
    private static partial void LogApproved(ILogger logger, string modelName, string modelVersion, Guid runId, ModelStage stage, IReadOnlyList<string> sites, string approver);

    [LoggerMessage(EventId = 9112, Level = LogLevel.Warning, Message = "Demo auto-approval of {ModelName}@{ModelVersion} refused by the registry: {Status} {Detail}")]
    private static partial void LogRefused(ILogger logger, string modelName, string modelVersion, int status, string detail);
}
