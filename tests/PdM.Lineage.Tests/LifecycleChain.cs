using MassTransit;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Contracts.Registry;

namespace PdM.Lineage.Tests;

/// <summary>
/// One model version's life as the other modules publish it: registered (uploader, training run, dataset), approved
/// for Production at a site, deployed by a gateway, raising a work order, closed with a confirmed failure.
/// </summary>
public sealed record LifecycleChain(string Model, string Version, string Site, string Gateway, string TrainingRun, string DatasetDigest)
{
    public string Digest { get; } = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Model + Version)));

    public Guid DeploymentId { get; } = Guid.NewGuid();

    public Guid WorkOrderId { get; } = Guid.NewGuid();

    public Guid PredictionId { get; } = Guid.NewGuid();

    public Guid CaseId { get; } = Guid.NewGuid();

    public string ModelNode => $"model:{Model}@{Version}";

    public async Task PublishAsync(IBus bus, string uploader, string approver, string asset)
    {
        ArgumentNullException.ThrowIfNull(bus);
        var now = DateTimeOffset.UtcNow;
        var provenance = new DecisionProvenance { Path = DecisionPath.Model, GatewayId = Gateway, ModelName = Model, ModelVersion = Version, ModelDigest = Digest };
        await bus.Publish(new ModelVersionRegistered
        {
            EventId = Guid.NewGuid(), ModelName = Model, ModelVersion = Version, AssetClass = "pump", PackageDigest = Digest,
            ArtifactSha256 = new string('f', 64), ArtifactUrl = "http://registry/api/artifacts/x", UploadedBy = uploader,
            TrainingRun = TrainingRun, DatasetDigest = DatasetDigest, OccurredAt = now,
        });
        await bus.Publish(new ModelPromoted
        {
            EventId = Guid.NewGuid(), DeploymentId = DeploymentId, ModelName = Model, ModelVersion = Version, PackageDigest = Digest,
            SiteIds = [Site], FromStage = ModelStage.Canary, ToStage = ModelStage.Production, PromotedBy = approver, UploadedBy = uploader, OccurredAt = now,
        });
        await bus.Publish(new ModelDeploymentSucceeded
        {
            EventId = Guid.NewGuid(), DeploymentId = DeploymentId, SiteId = Site, GatewayId = Gateway, ModelName = Model, ModelVersion = Version,
            PackageDigest = Digest, Stage = ModelStage.Production, OccurredAt = now,
        });
        await bus.Publish(new WorkOrderRaised
        {
            WorkOrderId = WorkOrderId, SiteId = Site, AssetId = asset, FailureMode = "VIB", Priority = WorkOrderPriority.High, ExternalKey = $"PDM-{Model}",
            SourcePredictionId = PredictionId, CaseId = CaseId, OccurredAt = now, Provenance = provenance,
        });
        await bus.Publish(new MaintenanceOutcomeRecorded
        {
            OutcomeId = Guid.NewGuid(), CaseId = CaseId, WorkOrderId = WorkOrderId, SiteId = Site, AssetId = asset, FailureMode = "VIB",
            Outcome = MaintenanceOutcome.FailureConfirmed, ClosedAt = now, Source = "maximo", SourcePredictionIds = [PredictionId],
            Provenance = new DecisionProvenance { Path = DecisionPath.Model, GatewayId = Gateway }, OccurredAt = now,
        });
    }
}
