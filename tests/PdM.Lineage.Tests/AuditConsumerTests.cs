using System.Globalization;
using MassTransit;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Contracts.Registry;
using PdM.Testing;

namespace PdM.Lineage.Tests;

public sealed class AuditConsumerTests(LineageFixture fixture) : IClassFixture<LineageFixture>
{
    [Fact]
    public async Task Registry_and_maintenance_events_are_recorded_once_with_who_what_and_digests()
    {
        var digest = new string('d', 64);
        var replaced = new string('c', 64);
        var promoted = new ModelPromoted
        {
            EventId = Guid.NewGuid(), DeploymentId = Guid.NewGuid(), ModelName = "brg-rul", ModelVersion = "3.1.0", PackageDigest = digest,
            SiteIds = ["plant-a"], FromStage = ModelStage.Canary, ToStage = ModelStage.Production, PromotedBy = "bob", UploadedBy = "alice",
            ReplacedDigests = [replaced], Signature = "c2ln", OccurredAt = DateTimeOffset.Parse("2026-11-25T01:02:03.1234567Z", CultureInfo.InvariantCulture),
        };
        var workOrder = new WorkOrderRaised
        {
            WorkOrderId = Guid.NewGuid(), SiteId = "plant-a", AssetId = "PUMP-101", FailureMode = "VIB", Priority = WorkOrderPriority.High,
            ExternalKey = "PDM-1", SourcePredictionId = Guid.NewGuid(),
            Provenance = new DecisionProvenance { Path = DecisionPath.Model, GatewayId = "edge-3", ModelName = "brg-rul", ModelVersion = "3.1.0", ModelDigest = digest },
            OccurredAt = DateTimeOffset.UtcNow,
        };
        var messageId = Guid.NewGuid();
        await fixture.Bus.Publish<ModelPromoted>(promoted, c => c.MessageId = messageId);
        await fixture.Bus.Publish<ModelPromoted>(promoted, c => c.MessageId = messageId);
        await fixture.Bus.Publish(workOrder);

        await Eventually.Until(() => fixture.Entries("model:brg-rul@3.1.0"), e => e.Count >= 1, TimeSpan.FromSeconds(30), "the promotion audited");
        var wo = await Eventually.Until(() => fixture.Entries($"work-order:{workOrder.WorkOrderId:D}"), e => e.Count == 1, TimeSpan.FromSeconds(30), "the work order audited");

        // The work order was queued after both deliveries of the promotion: by now the duplicate has been seen.
        var entry = Assert.Single(await fixture.Entries("model:brg-rul@3.1.0"));
        Assert.Equal(("bob", "model.promoted.production", replaced, digest), (entry.Actor, entry.Action, entry.BeforeDigest, entry.AfterDigest));
        Assert.Contains("\"uploadedBy\":\"alice\"", entry.Detail, StringComparison.Ordinal);
        Assert.Equal(promoted.OccurredAt.UtcTicks / 10, entry.OccurredAt.UtcTicks / 10);
        Assert.Equal(("system:maintenance", "work-order.raised"), (wo[0].Actor, wo[0].Action));
        Assert.Equal(64, wo[0].AfterDigest!.Length);

        var verification = await fixture.Verify();
        Assert.True(verification.Valid);
        Assert.Equal(2, verification.CheckedEntries);
    }
}
