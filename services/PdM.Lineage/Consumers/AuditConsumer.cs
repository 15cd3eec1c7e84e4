using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MassTransit;
using PdM.Contracts;
using PdM.Contracts.Edge;
using PdM.Contracts.Maintenance;
using PdM.Contracts.Models;
using PdM.Contracts.Registry;
using PdM.Lineage.Audit;

namespace PdM.Lineage.Consumers;

/// <summary>
/// Records every state-changing event of the registry, the gateways' deployment answers, rollbacks, refused
/// (tampered) packages and inference-budget shedding (started, changed, stopped), and the
/// Maintenance work orders and outcomes in the audit log. The bus message id makes a redelivery a no-op.
/// </summary>
public sealed class AuditConsumer(AuditLog audit) :
    IConsumer<ModelVersionRegistered>,
    IConsumer<ModelVersionRejected>,
    IConsumer<ModelPromoted>,
    IConsumer<ModelDeploymentRequested>,
    IConsumer<ModelDeploymentSucceeded>,
    IConsumer<ModelDeploymentFailed>,
    IConsumer<ModelRolledBack>,
    IConsumer<ModelDriftDetected>,
    IConsumer<ModelIntegrityViolation>,
    IConsumer<GatewaySheddingChanged>,
    IConsumer<WorkOrderRaised>,
    IConsumer<MaintenanceOutcomeRecorded>
{
    public Task Consume(ConsumeContext<ModelVersionRegistered> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        return Append(context, m.EventId, new AuditRecord(m.UploadedBy, "model.version.registered", ModelSubject(m.ModelName, m.ModelVersion),
            null, m.PackageDigest, JsonSerializer.Serialize(m, RegistryJsonContext.Default.ModelVersionRegistered), m.OccurredAt));
    }

    public Task Consume(ConsumeContext<ModelVersionRejected> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        return Append(context, m.EventId, new AuditRecord(m.RequestedBy, "model.version.rejected", ModelSubject(m.ModelName, m.ModelVersion),
            null, m.PackageDigest, JsonSerializer.Serialize(m, RegistryJsonContext.Default.ModelVersionRejected), m.OccurredAt));
    }

    public Task Consume(ConsumeContext<ModelPromoted> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        return Append(context, m.EventId, new AuditRecord(m.PromotedBy, "model.promoted." + m.ToStage.ToString().ToLowerInvariant(), ModelSubject(m.ModelName, m.ModelVersion),
            m.ReplacedDigests.Count > 0 ? m.ReplacedDigests[0] : null, m.PackageDigest, JsonSerializer.Serialize(m, RegistryJsonContext.Default.ModelPromoted), m.OccurredAt));
    }

    public Task Consume(ConsumeContext<ModelDeploymentRequested> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        return Append(context, m.DeploymentId, new AuditRecord(m.RequestedBy, "model.deployment.requested", "deployment:" + m.DeploymentId.ToString("D"),
            null, m.PackageDigest, JsonSerializer.Serialize(m, RegistryJsonContext.Default.ModelDeploymentRequested), m.OccurredAt));
    }

    public Task Consume(ConsumeContext<ModelDeploymentSucceeded> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        return Append(context, m.EventId, new AuditRecord(GatewayActor(m.GatewayId), "model.deployment.succeeded", SiteDeploymentSubject(m.DeploymentId, m.SiteId),
            null, m.PackageDigest, JsonSerializer.Serialize(m, RegistryJsonContext.Default.ModelDeploymentSucceeded), m.OccurredAt));
    }

    public Task Consume(ConsumeContext<ModelDeploymentFailed> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        return Append(context, m.EventId, new AuditRecord(GatewayActor(m.GatewayId), "model.deployment.failed", SiteDeploymentSubject(m.DeploymentId, m.SiteId),
            null, m.PackageDigest, JsonSerializer.Serialize(m, RegistryJsonContext.Default.ModelDeploymentFailed), m.OccurredAt));
    }

    public Task Consume(ConsumeContext<ModelRolledBack> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        return Append(context, m.EventId, new AuditRecord(GatewayActor(m.GatewayId), "model.rolled-back", GatewayAssetClassSubject(m.AssetClass, m.GatewayId),
            m.FromModelDigest, m.ToModelDigest, JsonSerializer.Serialize(m, ContractsJsonContext.Default.ModelRolledBack), m.OccurredAt));
    }

    public Task Consume(ConsumeContext<ModelDriftDetected> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        return Append(context, m.EventId, new AuditRecord(GatewayActor(m.GatewayId), "model.drift-detected", ModelSubject(m.ModelName, m.ModelVersion),
            null, m.ModelDigest, JsonSerializer.Serialize(m, ContractsJsonContext.Default.ModelDriftDetected), m.OccurredAt));
    }

    public Task Consume(ConsumeContext<ModelIntegrityViolation> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        return Append(context, m.EventId, new AuditRecord(GatewayActor(m.GatewayId), "model.integrity-violation", GatewayAssetClassSubject(m.AssetClass, m.GatewayId),
            m.ExpectedDigest, m.ActualDigest, JsonSerializer.Serialize(m, ContractsJsonContext.Default.ModelIntegrityViolation), m.OccurredAt));
    }

    /// <summary>A gateway fell behind and shed model work, shed more or less, or stopped: when its plant's decisions were not all the model's.</summary>
    public Task Consume(ConsumeContext<GatewaySheddingChanged> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        var change = m.PreviousLevel == 0 ? "started" : m.Level == 0 ? "stopped" : m.Level > m.PreviousLevel ? "escalated" : "eased";
        var detail = JsonSerializer.Serialize(m, ContractsJsonContext.Default.GatewaySheddingChanged);
        return Append(context, m.EventId, new AuditRecord(GatewayActor(m.GatewayId), "gateway.shedding." + change, $"gateway:{m.GatewayId}@{m.SiteId}",
            null, Sha256(detail), detail, m.OccurredAt));
    }

    public Task Consume(ConsumeContext<WorkOrderRaised> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        var detail = JsonSerializer.Serialize(m, MaintenanceJsonContext.Default.WorkOrderRaised);
        return Append(context, m.WorkOrderId, new AuditRecord("system:maintenance", "work-order.raised", "work-order:" + m.WorkOrderId.ToString("D"),
            null, Sha256(detail), detail, m.OccurredAt));
    }

    public Task Consume(ConsumeContext<MaintenanceOutcomeRecorded> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        var detail = JsonSerializer.Serialize(m, MaintenanceJsonContext.Default.MaintenanceOutcomeRecorded);
        return Append(context, m.OutcomeId, new AuditRecord("system:maintenance:" + m.Source, "maintenance.outcome.recorded", "work-order:" + m.WorkOrderId.ToString("D"),
            null, Sha256(detail), detail, m.OccurredAt));
    }

    private async Task Append(ConsumeContext context, Guid eventId, AuditRecord record) =>
        await audit.AppendAsync(record, context.MessageId ?? eventId, context.CancellationToken);

    private static string ModelSubject(string name, string version) => $"model:{name}@{version}";

    private static string SiteDeploymentSubject(Guid deploymentId, string siteId) => $"deployment:{deploymentId:D}@{siteId}";

    private static string GatewayAssetClassSubject(string assetClass, string gatewayId) => $"asset-class:{assetClass}@gateway:{gatewayId}";

    private static string GatewayActor(string gatewayId) => "gateway:" + gatewayId;

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
