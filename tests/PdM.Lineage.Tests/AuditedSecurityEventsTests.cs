using PdM.Contracts.Models;
using PdM.Contracts.Registry;
using PdM.Testing;

namespace PdM.Lineage.Tests;

/// <summary>The security events the audit log keeps: a gateway's refused (tampered) package and an admin's shadow-evidence waiver.</summary>
public sealed class AuditedSecurityEventsTests(LineageFixture fixture) : IClassFixture<LineageFixture>
{
    [Fact]
    public async Task A_gateways_refused_package_and_an_admins_shadow_waiver_are_audited_with_who_and_why()
    {
        var assetClass = "mill-" + Guid.NewGuid().ToString("N")[..8];
        var violation = new ModelIntegrityViolation
        {
            EventId = Guid.NewGuid(), GatewayId = "edge-9", SiteId = "plant-a", AssetClass = assetClass, PackageFile = "brg-rul@3.1.0.zip",
            Role = "Production", ExpectedDigest = new string('a', 64), ActualDigest = new string('b', 64), Reason = "digest_mismatch",
            Detail = "changed on disk", OccurredAt = DateTimeOffset.UtcNow,
        };
        var waived = new ModelPromoted
        {
            EventId = Guid.NewGuid(), DeploymentId = Guid.NewGuid(), ModelName = "waived-" + assetClass, ModelVersion = "1.0.0", PackageDigest = new string('e', 64),
            SiteIds = ["plant-a"], FromStage = ModelStage.Shadow, ToStage = ModelStage.Canary, CanaryShare = 0.5, PromotedBy = "root", UploadedBy = "alice",
            Signature = "c2ln", ShadowGateOverride = "vendor hotfix, CR-4711", OccurredAt = DateTimeOffset.UtcNow,
        };
        await fixture.Bus.Publish(violation);
        await fixture.Bus.Publish(waived);

        var refused = Assert.Single(await Eventually.Until(() => fixture.Entries($"asset-class:{assetClass}@gateway:edge-9"), e => e.Count == 1, TimeSpan.FromSeconds(30), "the violation audited"));
        Assert.Equal(("gateway:edge-9", "model.integrity-violation", violation.ExpectedDigest, violation.ActualDigest), (refused.Actor, refused.Action, refused.BeforeDigest, refused.AfterDigest));
        var canary = Assert.Single(await Eventually.Until(() => fixture.Entries($"model:waived-{assetClass}@1.0.0"), e => e.Count == 1, TimeSpan.FromSeconds(30), "the waiver audited"));
        Assert.Equal(("root", "model.promoted.canary"), (canary.Actor, canary.Action));
        Assert.Contains("\"shadowGateOverride\":\"vendor hotfix, CR-4711\"", canary.Detail, StringComparison.Ordinal);
    }
}
