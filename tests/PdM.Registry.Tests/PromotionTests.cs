using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using MassTransit;
using PdM.Contracts.Models;
using PdM.Contracts.Registry;
using PdM.ModelPackage.Signing;
using PdM.Registry.Api;
using PdM.Registry.Persistence;
using PdM.Testing;

namespace PdM.Registry.Tests;

[Collection(RegistrySuite.Name)]
public sealed class PromotionTests(RegistryFixture fixture)
{
    private const string DataScientist = "data-scientist";
    private const string Approver = "approver";

    [Fact]
    public async Task Production_needs_a_second_person_and_the_approval_signs_what_the_gateways_are_asked_to_load()
    {
        var name = TestPackages.UniqueName("four");
        var (model, manifest) = TestPackages.Load("logreg_failure", name);
        (await fixture.Push(name, model, manifest, "alice", DataScientist)).EnsureSuccessStatusCode();
        var site = new[] { "plant-a" };

        using var anonymous = await fixture.Anonymous.PostAsJsonAsync($"/api/models/{name}/versions/1.0.0/promote", new PromotionRequest { Stage = ModelStage.Shadow, SiteIds = site }, RegistryFixture.Json);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var shadow = await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Shadow, SiteIds = site }, "alice", DataScientist);
        Assert.Equal(HttpStatusCode.OK, shadow.StatusCode);
        var shadowRequest = await Requested(name, ModelStage.Shadow);
        Assert.Null(shadowRequest.Signature);
        Assert.Equal(site, shadowRequest.SiteIds);

        await AssertRefused(await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Production, SiteIds = site }, "carol", DataScientist),
            "role_required", "approver");
        await AssertRefused(await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Production, SiteIds = site }, "alice", DataScientist, Approver),
            "four_eyes", "'alice' uploaded");
        await AssertRefused(await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Production, SiteIds = site }, "ALICE", Approver),
            "four_eyes", "cannot approve");
        Assert.Null((await fixture.Version(name, "1.0.0")).Signature);

        await fixture.ReportShadow(name, "1.0.0", "plant-a", compared: 1000, agreed: 1000);
        using var production = await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Production, SiteIds = site }, "bob", Approver);
        Assert.Equal(HttpStatusCode.OK, production.StatusCode);
        var approved = (await production.Content.ReadFromJsonAsync<ModelVersionResponse>(RegistryFixture.Json))!;
        Assert.Equal("bob", approved.ApprovedBy);
        Assert.Equal(ModelStage.Production, Assert.Single(approved.Sites).Stage);
        Assert.Equal(DeploymentStatus.Requested, approved.Sites[0].Status);

        // What a gateway receives, downloads and checks.
        var request = await Requested(name, ModelStage.Production);
        Assert.Equal(approved.Signature, request.Signature);
        Assert.Equal(approved.PackageDigest, request.PackageDigest);
        var zip = await fixture.Api.GetByteArrayAsync(new Uri(request.ArtifactUrl).PathAndQuery);
        Assert.Equal(request.ArtifactSha256, Convert.ToHexStringLower(SHA256.HashData(zip)));
        var (zModel, zManifest) = Unzip(zip);
        using var verifier = new PackageSignatureVerifier(fixture.PublicKeyPem);
        Assert.Null(verifier.Verify(zModel, zManifest, request.PackageDigest, request.Signature));
        Assert.Equal(fixture.PublicKeyPem.Trim(), (await fixture.Api.GetStringAsync("/api/signing/public-key")).Trim());

        var promoted = await Eventually.Until(() => Task.FromResult(fixture.Events.Of<ModelPromoted>().FirstOrDefault(p => p.ModelName == name && p.ToStage == ModelStage.Production)),
            p => p is not null, TimeSpan.FromSeconds(30), "ModelPromoted to Production");
        Assert.Equal(("bob", "alice", ModelStage.Shadow), (promoted!.PromotedBy, promoted.UploadedBy, promoted.FromStage));
    }

    [Fact]
    public async Task Gateway_answers_and_a_rollback_update_the_registrys_state_per_site()
    {
        var name = TestPackages.UniqueName("dep");
        var (v1Model, v1Manifest) = TestPackages.Load("logreg_failure", name, "1.0.0");
        var (v2Model, v2Manifest) = TestPackages.Load("logreg_failure", name, "2.0.0");
        (await fixture.Push(name, v1Model, v1Manifest, "alice", DataScientist)).EnsureSuccessStatusCode();
        (await fixture.Push(name, v2Model, v2Manifest, "alice", DataScientist)).EnsureSuccessStatusCode();
        var sites = new[] { "north", "south" };

        await fixture.ReportShadow(name, "1.0.0", "north", compared: 500, agreed: 500);
        await fixture.ReportShadow(name, "1.0.0", "south", compared: 500, agreed: 500);
        (await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Production, SiteIds = sites }, "bob", Approver)).EnsureSuccessStatusCode();
        var v1 = await Requested(name, ModelStage.Production, "1.0.0");
        await Succeeded(v1, "north", "gw-north");
        await Succeeded(v1, "south", "gw-south");
        await Eventually.Until(() => fixture.Version(name, "1.0.0"), v => v.Sites.All(s => s.Status == DeploymentStatus.Succeeded), TimeSpan.FromSeconds(30), "v1 deployed at both sites");

        await fixture.ReportShadow(name, "2.0.0", "north", compared: 500, agreed: 490);
        await fixture.ReportShadow(name, "2.0.0", "south", compared: 500, agreed: 490);
        (await fixture.Promote(name, "2.0.0", new PromotionRequest { Stage = ModelStage.Canary, SiteIds = sites, CanaryShare = 0.25 }, "bob", Approver)).EnsureSuccessStatusCode();
        (await fixture.Promote(name, "2.0.0", new PromotionRequest { Stage = ModelStage.Production, SiteIds = sites }, "bob", Approver)).EnsureSuccessStatusCode();
        var v2 = await Requested(name, ModelStage.Production, "2.0.0");
        var retired = await fixture.Version(name, "1.0.0");
        Assert.All(retired.Sites, s => Assert.Equal((ModelStage.Archived, DeploymentStatus.Retired), (s.Stage, s.Status)));

        await Succeeded(v2, "north", "gw-north");
        await fixture.Bus.Publish(new ModelDeploymentFailed
        {
            EventId = Guid.NewGuid(), DeploymentId = v2.DeploymentId, SiteId = "south", GatewayId = "gw-south", ModelName = name, ModelVersion = "2.0.0",
            PackageDigest = v2.PackageDigest, Stage = ModelStage.Production, Reason = "bad_signature", Detail = "the signature does not verify", OccurredAt = DateTimeOffset.UtcNow,
        });
        var afterFailure = await Eventually.Until(() => fixture.Version(name, "2.0.0"), v => v.Sites.Any(s => s.Status == DeploymentStatus.Failed),
            TimeSpan.FromSeconds(30), "the south failure recorded");
        var south = afterFailure.Sites.Single(s => s.SiteId == "south");
        Assert.Equal("bad_signature: the signature does not verify", south.Detail);
        Assert.Equal(DeploymentStatus.Succeeded, afterFailure.Sites.Single(s => s.SiteId == "north").Status);

        var rollback = new ModelRolledBack
        {
            EventId = Guid.NewGuid(), GatewayId = "gw-north", AssetClass = retired.AssetClass,
            FromModelName = name, FromModelVersion = "2.0.0", FromModelDigest = v2.PackageDigest,
            ToModelName = name, ToModelVersion = "1.0.0", ToModelDigest = v1.PackageDigest,
            Reason = "error_rate 0.6 > 0.2 over the last 50 rows", WindowRows = 50, OccurredAt = DateTimeOffset.UtcNow,
        };
        var messageId = Guid.NewGuid();
        await fixture.Bus.Publish<ModelRolledBack>(rollback, c => c.MessageId = messageId);
        await fixture.Bus.Publish<ModelRolledBack>(rollback, c => c.MessageId = messageId);
        var rolledBack = await Eventually.Until(() => fixture.Version(name, "2.0.0"), v => v.Sites.Any(s => s.Status == DeploymentStatus.RolledBack),
            TimeSpan.FromSeconds(30), "the rollback reflected");
        Assert.Contains("error_rate 0.6", rolledBack.Sites.Single(s => s.SiteId == "north").Detail, StringComparison.Ordinal);
        var restored = await fixture.Version(name, "1.0.0");
        Assert.Equal((ModelStage.Production, DeploymentStatus.Succeeded), (restored.Sites.Single(s => s.SiteId == "north").Stage, restored.Sites.Single(s => s.SiteId == "north").Status));
        Assert.Equal(ModelStage.Archived, restored.Sites.Single(s => s.SiteId == "south").Stage);
    }

    [Fact]
    public async Task Replacing_a_production_model_needs_enough_agreeing_shadow_evidence()
    {
        var name = TestPackages.UniqueName("gate");
        var (v1Model, v1Manifest) = TestPackages.Load("logreg_failure", name, "1.0.0");
        var (v2Model, v2Manifest) = TestPackages.Load("logreg_failure", name, "1.1.0");
        (await fixture.Push(name, v1Model, v1Manifest, "alice", DataScientist)).EnsureSuccessStatusCode();
        (await fixture.Push(name, v2Model, v2Manifest, "alice", DataScientist)).EnsureSuccessStatusCode();
        string[] site = ["gated"];

        await fixture.ReportShadow(name, "1.0.0", "gated", compared: 1000, agreed: 1000);
        (await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Production, SiteIds = site }, "bob", Approver)).EnsureSuccessStatusCode();
        (await fixture.Promote(name, "1.1.0", new PromotionRequest { Stage = ModelStage.Shadow, SiteIds = site }, "alice", DataScientist)).EnsureSuccessStatusCode();

        var canary = new PromotionRequest { Stage = ModelStage.Canary, SiteIds = site, CanaryShare = 0.2 };
        await AssertRefused(await fixture.Promote(name, "1.1.0", canary, "bob", Approver), "shadow_evidence_missing", "compared 0 rows", HttpStatusCode.Conflict);

        // Another site's shadow says nothing about this site's assets.
        await fixture.ReportShadow(name, "1.1.0", "elsewhere", compared: 5000, agreed: 5000);
        await AssertRefused(await fixture.Promote(name, "1.1.0", canary, "bob", Approver), "shadow_evidence_missing", "at gated: the site's gateways compared 0 rows", HttpStatusCode.Conflict);

        await fixture.ReportShadow(name, "1.1.0", "gated", compared: 150, agreed: 120);
        await AssertRefused(await fixture.Promote(name, "1.1.0", canary, "bob", Approver), "shadow_agreement_too_low", "agreement with production is 0.8 over 150 rows", HttpStatusCode.Conflict);

        await fixture.ReportShadow(name, "1.1.0", "gated", compared: 850, agreed: 850, failed: 100);
        await AssertRefused(await fixture.Promote(name, "1.1.0", new PromotionRequest { Stage = ModelStage.Production, SiteIds = site }, "bob", Approver),
            "shadow_errors_too_high", "failed on 100 shadow rows", HttpStatusCode.Conflict);
        Assert.Null((await fixture.Version(name, "1.1.0")).Signature);

        await fixture.ReportShadow(name, "1.1.0", "gated", compared: 1000, agreed: 1000);
        var evidence = (await fixture.Version(name, "1.1.0")).Shadow!;
        Assert.Equal((4, 7000L, 6970L, 100L), (evidence.Reports, evidence.ComparedRows, evidence.AgreedRows, evidence.CandidateFailedRows));
        using var promoted = await fixture.Promote(name, "1.1.0", canary, "bob", Approver);
        Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
    }

    [Fact]
    public async Task A_first_production_model_at_a_site_needs_that_sites_shadow_evidence_or_an_admins_audited_waiver()
    {
        var name = TestPackages.UniqueName("first");
        var (v1Model, v1Manifest) = TestPackages.Load("logreg_failure", name, "1.0.0");
        var (v2Model, v2Manifest) = TestPackages.Load("logreg_failure", name, "2.0.0");
        (await fixture.Push(name, v1Model, v1Manifest, "alice", DataScientist)).EnsureSuccessStatusCode();
        (await fixture.Push(name, v2Model, v2Manifest, "alice", DataScientist)).EnsureSuccessStatusCode();
        var site = TestPackages.UniqueName("fresh-site");
        var first = new PromotionRequest { Stage = ModelStage.Production, SiteIds = [site] };

        // No model of the asset class has ever decided at this site, and the version was never shadowed there.
        await AssertRefused(await fixture.Promote(name, "1.0.0", first, "bob", Approver),
            "shadow_evidence_missing", $"as the first Production model of milling-machine at {site}: the site's gateways compared 0 rows", HttpStatusCode.Conflict);
        Assert.Null((await fixture.Version(name, "1.0.0")).Signature);
        Assert.DoesNotContain(fixture.Events.Of<ModelDeploymentRequested>(), r => r.ModelName == name && r.Stage == ModelStage.Production);

        // Evidence from another site does not count; the site's own does.
        await fixture.ReportShadow(name, "1.0.0", "elsewhere", compared: 5000, agreed: 5000);
        await AssertRefused(await fixture.Promote(name, "1.0.0", first, "bob", Approver), "shadow_evidence_missing", $"at {site}", HttpStatusCode.Conflict);
        await fixture.ReportShadow(name, "1.0.0", site, compared: 1000, agreed: 990);
        using (var promoted = await fixture.Promote(name, "1.0.0", first, "bob", Approver))
        {
            Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        }

        // Another site, no evidence: an approver cannot waive it, an admin can with a reason, and the audit record says so.
        var other = TestPackages.UniqueName("fresh-site");
        var waived = new PromotionRequest { Stage = ModelStage.Production, SiteIds = [other], ShadowOverrideReason = "first model at the new line; rules miss HDF, CR-815" };
        await AssertRefused(await fixture.Promote(name, "2.0.0", waived, "bob", Approver), "role_required", "waiving the shadow evidence needs the role 'admin'");
        using (var admin = await fixture.Promote(name, "2.0.0", waived, "root", "admin"))
        {
            Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        }

        var audited = await Eventually.Until(
            () => Task.FromResult(fixture.Events.Of<ModelPromoted>().FirstOrDefault(p => p.ModelName == name && p.ModelVersion == "2.0.0" && p.ToStage == ModelStage.Production)),
            p => p is not null, TimeSpan.FromSeconds(30), "ModelPromoted of the waived first Production");
        Assert.Equal(("root", "first model at the new line; rules miss HDF, CR-815"), (audited!.PromotedBy, audited.ShadowGateOverride));
        Assert.NotNull(audited.Signature);
    }

    [Fact]
    public async Task A_deployment_the_sites_assets_cannot_feed_is_refused_naming_the_missing_sensors_unless_partial_is_allowed_and_audited()
    {
        var name = TestPackages.UniqueName("compat");
        var (model, manifest) = TestPackages.Load("logreg_failure", name);
        (await fixture.Push(name, model, manifest, "alice", DataScientist)).EnsureSuccessStatusCode();
        string[] all = ["air_temperature_k", "process_temperature_k", "rotational_speed_rpm", "torque_nm", "tool_wear_min"];
        var site = TestPackages.UniqueName("mill-site");
        await GatewayInventories.ReportAsync(fixture.Bus, fixture.Api, site, "milling-machine", ("MILL-1", all), ("MILL-2", ["air_temperature_k", "rotational_speed_rpm"]));

        // The package reads five AI4I sensors; MILL-2 reports two of them. Refused before any gateway is asked.
        var shadow = new PromotionRequest { Stage = ModelStage.Shadow, SiteIds = [site] };
        using (var refused = await fixture.Promote(name, "1.0.0", shadow, "alice", DataScientist))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("feature_mismatch", problem.GetProperty("reason").GetString());
            Assert.Contains($"{site}/MILL-2 lacks process_temperature_k, torque_nm, tool_wear_min", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            var fallback = Assert.Single(problem.GetProperty("compatibility").GetProperty("fallbackAssets").EnumerateArray());
            Assert.Equal("MILL-2", fallback.GetProperty("assetId").GetString());
            Assert.Equal(new[] { "process_temperature_k", "torque_nm", "tool_wear_min" }, fallback.GetProperty("missingSensors").EnumerateArray().Select(e => e.GetString()!));
        }

        Assert.DoesNotContain(fixture.Events.Of<ModelDeploymentRequested>(), r => r.ModelName == name);

        // Accepted with allowPartial: the answer names who decides and who keeps the rules, and so does the audit record.
        using (var partial = await fixture.Promote(name, "1.0.0", shadow with { AllowPartial = true }, "alice", DataScientist))
        {
            Assert.Equal(HttpStatusCode.OK, partial.StatusCode);
            var body = await partial.Content.ReadFromJsonAsync<JsonElement>();
            var compatibility = body.GetProperty("compatibility");
            Assert.Equal("MILL-1", Assert.Single(compatibility.GetProperty("decidingAssets").EnumerateArray()).GetProperty("assetId").GetString());
            Assert.Equal("MILL-2", Assert.Single(compatibility.GetProperty("fallbackAssets").EnumerateArray()).GetProperty("assetId").GetString());
        }

        var audited = await Eventually.Until(
            () => Task.FromResult(fixture.Events.Of<ModelPromoted>().FirstOrDefault(p => p.ModelName == name && p.ToStage == ModelStage.Shadow)),
            p => p is not null, TimeSpan.FromSeconds(30), "ModelPromoted of the partial shadow");
        Assert.True(audited!.Compatibility!.AllowPartial);
        Assert.Equal(new[] { "MILL-1", "MILL-2" }, audited.Compatibility.Assets.Select(a => a.AssetId));
        Assert.Equal(new[] { "process_temperature_k", "torque_nm", "tool_wear_min" }, audited.Compatibility.Assets.Single(a => a.AssetId == "MILL-2").MissingSensors);

        // A site where no asset could decide is refused even with allowPartial; a site no gateway reported from yet is
        // accepted and named as unchecked (its gateway checks when it loads the version).
        var lacking = TestPackages.UniqueName("mill-site");
        await GatewayInventories.ReportAsync(fixture.Bus, fixture.Api, lacking, "milling-machine", ("MILL-9", ["torque_nm"]));
        await AssertRefused(await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Shadow, SiteIds = [lacking], AllowPartial = true }, "alice", DataScientist),
            "feature_mismatch", "0 of 1 assets could decide with it: nothing at the target sites would decide with it", HttpStatusCode.Conflict);
        var unknown = TestPackages.UniqueName("new-site");
        using (var unreported = await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Shadow, SiteIds = [unknown] }, "alice", DataScientist))
        {
            Assert.Equal(HttpStatusCode.OK, unreported.StatusCode);
            var body = await unreported.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(unknown, Assert.Single(body.GetProperty("compatibility").GetProperty("uncheckedSites").EnumerateArray()).GetString());
        }
    }

    [Fact]
    public async Task Canary_needs_a_share_and_Candidate_is_not_a_promotion_target()
    {
        var name = TestPackages.UniqueName("can");
        var (model, manifest) = TestPackages.Load("logreg_failure", name);
        (await fixture.Push(name, model, manifest, "alice", DataScientist)).EnsureSuccessStatusCode();

        await AssertRefused(await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Canary, SiteIds = ["a"] }, "bob", Approver),
            "invalid_canary_share", "canaryShare", HttpStatusCode.BadRequest);
        await AssertRefused(await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Candidate, SiteIds = ["a"] }, "alice", DataScientist),
            "invalid_stage", "Candidate", HttpStatusCode.BadRequest);
        await AssertRefused(await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Shadow, SiteIds = ["a"] }, "pat", "planner"),
            "role_required", DataScientist);
        await AssertRefused(await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Shadow, SiteIds = ["a"], ShadowOverrideReason = "no" }, "root", "admin"),
            "invalid_shadow_override", "Canary and Production only", HttpStatusCode.BadRequest);

        await fixture.ReportShadow(name, "1.0.0", "a", compared: 1000, agreed: 1000);
        using var canary = await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Canary, SiteIds = ["a"], CanaryShare = 0.1 }, "bob", Approver);
        Assert.Equal(HttpStatusCode.OK, canary.StatusCode);
        var request = await Requested(name, ModelStage.Canary);
        Assert.Equal(0.1, request.CanaryShare);

        // The canary decides for a tenth of the site's assets: approved by a second person and signed, like production.
        using var verifier = new PackageSignatureVerifier(fixture.PublicKeyPem);
        Assert.Null(verifier.VerifyDigest(request.PackageDigest, request.Signature));
        Assert.Equal("bob", (await fixture.Version(name, "1.0.0")).ApprovedBy);
    }

    [Fact]
    public async Task A_lone_data_scientist_cannot_get_a_version_to_decide_for_any_asset()
    {
        var name = TestPackages.UniqueName("lone");
        var (v1Model, v1Manifest) = TestPackages.Load("logreg_failure", name, "1.0.0");
        var (v2Model, v2Manifest) = TestPackages.Load("logreg_failure", name, "2.0.0");
        (await fixture.Push(name, v1Model, v1Manifest, "mallory", DataScientist)).EnsureSuccessStatusCode();
        (await fixture.Push(name, v2Model, v2Manifest, "mallory", DataScientist)).EnsureSuccessStatusCode();
        string[] site = ["lone-site"];

        // Even with perfect shadow evidence at the site, whatever share, with or without the approver role herself.
        await fixture.ReportShadow(name, "1.0.0", "lone-site", compared: 1000, agreed: 1000);
        foreach (var share in new[] { 0.01, 0.5, 1.0 })
        {
            await AssertRefused(await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Canary, SiteIds = site, CanaryShare = share }, "mallory", DataScientist),
                "four_eyes", "cannot approve it for Canary");
        }

        await AssertRefused(await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Canary, SiteIds = site, CanaryShare = 1.0 }, "mallory", DataScientist, Approver),
            "four_eyes", "a second person must");
        await AssertRefused(await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Canary, SiteIds = site, CanaryShare = 1.0 }, "mallory", "admin"),
            "four_eyes", "a second person must");
        await AssertRefused(await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Production, SiteIds = site }, "mallory", DataScientist),
            "four_eyes", "cannot approve it for Production");
        await AssertRefused(await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Production, SiteIds = site }, "mallory", DataScientist, Approver),
            "four_eyes", "cannot approve it for Production");

        // A fellow data scientist without the approver role cannot stand in as the second person either.
        await AssertRefused(await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Canary, SiteIds = site, CanaryShare = 1.0 }, "carol", DataScientist),
            "role_required", Approver);

        // A shadow is hers to start (it never decides); it reaches no gateway as a deciding stage and is not signed.
        (await fixture.Promote(name, "1.0.0", new PromotionRequest { Stage = ModelStage.Shadow, SiteIds = site }, "mallory", DataScientist)).EnsureSuccessStatusCode();
        Assert.Null((await fixture.Version(name, "1.0.0")).Signature);
        Assert.DoesNotContain(fixture.Events.Of<ModelDeploymentRequested>(), r => r.ModelName == name && r.Stage is ModelStage.Canary or ModelStage.Production);

        // No shadow evidence for 2.0.0 at the site: even an approver needs it, unless an admin waives it with a reason.
        var canary = new PromotionRequest { Stage = ModelStage.Canary, SiteIds = site, CanaryShare = 0.5 };
        await AssertRefused(await fixture.Promote(name, "2.0.0", canary, "bob", Approver), "shadow_evidence_missing", "as a canary at lone-site", HttpStatusCode.Conflict);
        await AssertRefused(await fixture.Promote(name, "2.0.0", canary with { ShadowOverrideReason = "urgent" }, "bob", Approver),
            "role_required", "waiving the shadow evidence needs the role 'admin'");
        await AssertRefused(await fixture.Promote(name, "2.0.0", canary with { ShadowOverrideReason = "   " }, "root", "admin"),
            "invalid_shadow_override", "saying why", HttpStatusCode.BadRequest);
        using var waived = await fixture.Promote(name, "2.0.0", canary with { ShadowOverrideReason = "vendor hotfix for a known false alarm, CR-4711" }, "root", "admin");
        Assert.Equal(HttpStatusCode.OK, waived.StatusCode);

        // The waiver is on the record the audit log keeps (ModelPromoted), with who gave it.
        var promoted = await Eventually.Until(
            () => Task.FromResult(fixture.Events.Of<ModelPromoted>().FirstOrDefault(p => p.ModelName == name && p.ModelVersion == "2.0.0" && p.ToStage == ModelStage.Canary)),
            p => p is not null, TimeSpan.FromSeconds(30), "ModelPromoted to Canary with the waiver");
        Assert.Equal(("root", "mallory", "vendor hotfix for a known false alarm, CR-4711"), (promoted!.PromotedBy, promoted.UploadedBy, promoted.ShadowGateOverride));
        Assert.NotNull(promoted.Signature);
    }

    private async Task<ModelDeploymentRequested> Requested(string name, ModelStage stage, string version = "1.0.0") =>
        (await Eventually.Until(
            () => Task.FromResult(fixture.Events.Of<ModelDeploymentRequested>().FirstOrDefault(r => r.ModelName == name && r.ModelVersion == version && r.Stage == stage)),
            r => r is not null, TimeSpan.FromSeconds(30), $"ModelDeploymentRequested {name}@{version} {stage}"))!;

    private Task Succeeded(ModelDeploymentRequested request, string site, string gateway) =>
        fixture.Bus.Publish(new ModelDeploymentSucceeded
        {
            EventId = Guid.NewGuid(), DeploymentId = request.DeploymentId, SiteId = site, GatewayId = gateway, ModelName = request.ModelName,
            ModelVersion = request.ModelVersion, PackageDigest = request.PackageDigest, Stage = request.Stage, OccurredAt = DateTimeOffset.UtcNow,
        });

    private static async Task AssertRefused(HttpResponseMessage response, string reason, string detailPart, HttpStatusCode status = HttpStatusCode.Forbidden)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(reason, problem.GetProperty("reason").GetString());
            Assert.Contains(detailPart, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    private static (byte[] Model, byte[] Manifest) Unzip(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        return (Read(archive, "model.onnx"), Read(archive, "manifest.json"));

        static byte[] Read(ZipArchive archive, string entry)
        {
            using var stream = archive.GetEntry(entry)!.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }
    }
}
