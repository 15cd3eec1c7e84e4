using MassTransit;
using Microsoft.Extensions.Options;
using PdM.Contracts.Registry;

namespace PdM.Edge.Gateway.Deployment;

/// <summary>
/// Takes the registry's deployment requests for this gateway's site off the bus (queue
/// <c>pdm-gateway-{gatewayId}-deployments</c>) and hands them to <see cref="DeploymentWorker"/>. Does no download or
/// loading itself, so a slow link never holds a bus consumer; the request is recorded as pending before the message
/// is acknowledged, and a redelivered or repeated deployment id is ignored.
/// </summary>
public sealed partial class ModelDeploymentRequestedConsumer(
    DeploymentLedger ledger,
    DeploymentInbox queue,
    IOptions<GatewayOptions> gateway,
    GatewayTelemetry telemetry,
    ILogger<ModelDeploymentRequestedConsumer> logger) : IConsumer<ModelDeploymentRequested>
{
    public async Task Consume(ConsumeContext<ModelDeploymentRequested> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Message;
        var site = gateway.Value.SiteId;
        if (!ForSite(request, site))
        {
            LogOtherSite(logger, request.DeploymentId, site);
            return;
        }

        if (!ledger.TryAccept(request))
        {
            telemetry.Deployment("duplicate", "already_handled");
            LogDuplicate(logger, request.DeploymentId, request.ModelName, request.ModelVersion);
            return;
        }

        await queue.EnqueueAsync(request, context.CancellationToken);
    }

    private static bool ForSite(ModelDeploymentRequested request, string site)
    {
        foreach (var candidate in request.SiteIds ?? [])
        {
            if (string.Equals(candidate, site, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(EventId = 1611, Level = LogLevel.Debug, Message = "Deployment {DeploymentId} is not for site {Site}; ignored")]
    private static partial void LogOtherSite(ILogger logger, Guid deploymentId, string site);

    [LoggerMessage(EventId = 1612, Level = LogLevel.Information, Message = "Deployment {DeploymentId} ({Model}@{Version}) was already received; the repeat is ignored")]
    private static partial void LogDuplicate(ILogger logger, Guid deploymentId, string model, string version);
}
