using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PdM.Contracts.Models;
using PdM.Contracts.Registry;
using PdM.Persistence;
using PdM.Registry.Persistence;

namespace PdM.Registry.Consumers;

/// <summary>
/// Brings the registry's per-site state in line with what the gateways report: a deployment succeeded or failed (with
/// the reason), or a gateway rolled a version back on its own. Idempotent through the inbox, committed with the effect.
/// </summary>
public sealed partial class DeploymentResultConsumer(RegistryDbContext db, RegistryTelemetry telemetry, TimeProvider clock, ILogger<DeploymentResultConsumer> logger)
    : IConsumer<ModelDeploymentSucceeded>, IConsumer<ModelDeploymentFailed>, IConsumer<ModelRolledBack>
{
    public const string ConsumerName = "registry.deployment-results";

    public Task Consume(ConsumeContext<ModelDeploymentSucceeded> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        // Loaded, but some of the gateway's assets cannot feed it: who keeps the rules is part of the answer.
        var detail = m.FallbackAssets is { Count: > 0 } fallback
            ? $"{m.DecidingAssets?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "some"} asset(s) decide with it; {fallback.Count} keep the rules (missing sensors): "
                + string.Join("; ", fallback.Select(a => $"{a.AssetId} lacks {string.Join(", ", a.MissingSensors)}"))
            : null;
        return Apply(context, m.EventId, "succeeded", now =>
            Settle(m.DeploymentId, m.SiteId, m.PackageDigest, m.GatewayId, DeploymentStatus.Succeeded, detail, now, context.CancellationToken));
    }

    public Task Consume(ConsumeContext<ModelDeploymentFailed> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        return Apply(context, m.EventId, "failed", async now =>
        {
            if (await Settle(m.DeploymentId, m.SiteId, m.PackageDigest, m.GatewayId, DeploymentStatus.Failed, $"{m.Reason}: {m.Detail}", now, context.CancellationToken))
            {
                LogDeploymentFailed(logger, m.ModelName, m.ModelVersion, m.SiteId, m.GatewayId, m.Reason, m.Detail);
            }
        });
    }

    public Task Consume(ConsumeContext<ModelRolledBack> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        return Apply(context, m.EventId, "rolled_back", async now =>
        {
            var ct = context.CancellationToken;
            var from = await (from d in db.Deployments
                              join v in db.Versions on d.VersionId equals v.Id
                              where v.PackageDigest == m.FromModelDigest && d.GatewayId == m.GatewayId
                              select d).ToListAsync(ct);
            if (from.Count == 0)
            {
                LogUnknownRollback(logger, m.GatewayId, m.FromModelName, m.FromModelVersion);
                return;
            }

            var sites = from.Select(d => d.SiteId).ToList();
            var to = await (from d in db.Deployments
                            join v in db.Versions on d.VersionId equals v.Id
                            where v.PackageDigest == m.ToModelDigest && sites.Contains(d.SiteId)
                            select d).ToListAsync(ct);
            foreach (var row in from)
            {
                foreach (var restored in to.Where(t => t.SiteId == row.SiteId))
                {
                    restored.Stage = row.Stage;
                    restored.Status = DeploymentStatus.Succeeded;
                    restored.GatewayId = m.GatewayId;
                    restored.Detail = ColumnText.Clip($"restored by gateway {m.GatewayId} rollback of {m.FromModelName}@{m.FromModelVersion}", 2000);
                    restored.UpdatedAt = now;
                }

                row.Status = DeploymentStatus.RolledBack;
                row.Detail = ColumnText.Clip($"gateway {m.GatewayId} rolled back to {m.ToModelName}@{m.ToModelVersion}: {m.Reason}", 2000);
                row.UpdatedAt = now;
            }

            LogRolledBack(logger, m.GatewayId, m.FromModelName, m.FromModelVersion, m.ToModelName, m.ToModelVersion, m.Reason);
        });
    }

    private async Task Apply(ConsumeContext context, Guid eventId, string kind, Func<DateTimeOffset, Task> effect)
    {
        var messageId = context.MessageId ?? eventId;
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(context.CancellationToken);
        if (!await Inbox.TryRecordAsync(db, messageId, ConsumerName, now, context.CancellationToken))
        {
            return;
        }

        await effect(now);
        await db.SaveChangesAsync(context.CancellationToken);
        await transaction.CommitAsync(context.CancellationToken);
        telemetry.DeploymentReports.Add(1, new KeyValuePair<string, object?>("kind", kind));
    }

    /// <summary>Records a gateway's answer on the deployment it reports on; false (logged) when the registry knows no such deployment.</summary>
    private async Task<bool> Settle(
        Guid deploymentId, string siteId, string digest, string gatewayId, DeploymentStatus status, string? detail, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var row = await Find(deploymentId, siteId, digest, cancellationToken);
        if (row is null)
        {
            LogUnknownDeployment(logger, deploymentId, siteId, digest);
            return false;
        }

        row.Status = status;
        row.GatewayId = gatewayId;
        row.Detail = ColumnText.Clip(detail, 2000);
        row.UpdatedAt = now;
        return true;
    }

    private Task<SiteDeployment?> Find(Guid deploymentId, string siteId, string digest, CancellationToken cancellationToken) =>
        (from d in db.Deployments
         join v in db.Versions on d.VersionId equals v.Id
         where d.DeploymentId == deploymentId && d.SiteId == siteId && v.PackageDigest == digest
         select d).SingleOrDefaultAsync(cancellationToken);

    [LoggerMessage(EventId = 3121, Level = LogLevel.Warning, Message = "Deployment report for unknown deployment {DeploymentId} at site {SiteId} (digest {Digest}) ignored")]
    private static partial void LogUnknownDeployment(ILogger logger, Guid deploymentId, string siteId, string digest);

    [LoggerMessage(EventId = 3122, Level = LogLevel.Warning, Message = "Deployment of {ModelName}@{ModelVersion} failed at site {SiteId} on gateway {GatewayId}: {Reason}: {Detail}")]
    private static partial void LogDeploymentFailed(ILogger logger, string modelName, string modelVersion, string siteId, string gatewayId, string reason, string detail);

    [LoggerMessage(EventId = 3123, Level = LogLevel.Warning, Message = "Gateway {GatewayId} rolled back {FromName}@{FromVersion} to {ToName}@{ToVersion}: {Reason}")]
    private static partial void LogRolledBack(ILogger logger, string gatewayId, string fromName, string fromVersion, string toName, string toVersion, string reason);

    [LoggerMessage(EventId = 3124, Level = LogLevel.Warning, Message = "Rollback reported by gateway {GatewayId} for {ModelName}@{ModelVersion}, which the registry has not deployed there; ignored")]
    private static partial void LogUnknownRollback(ILogger logger, string gatewayId, string modelName, string modelVersion);
}
