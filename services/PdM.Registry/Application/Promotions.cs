using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Contracts.Registry;
using PdM.Persistence;
using PdM.Registry.Identity;
using PdM.Registry.Outbox;
using PdM.Registry.Persistence;
using PdM.Registry.Signing;

namespace PdM.Registry.Application;

/// <summary>
/// Moves a version to a stage at one or more sites. Shadow: a data scientist (a shadow never decides). Canary and
/// Production, the stages that decide for assets: an approver who is not the uploader (four eyes), and the approval
/// signs the package digest. Archived: either role. The version that held the same stage for the same asset class at
/// a site is retired (Archived). The change, the <see cref="ModelDeploymentRequested"/> for the gateways and the
/// <see cref="ModelPromoted"/> record commit together.
/// </summary>
public sealed partial class Promotions(
    RegistryDbContext db,
    IOptions<RegistryOptions> options,
    RegistrySigningKey signingKey,
    OutboxSignal<RegistryDbContext> signal,
    RegistryTelemetry telemetry,
    TimeProvider clock,
    ILogger<Promotions> logger)
{
    /// <summary>
    /// The promotion, for the HTTP endpoint and for any in-process caller: the same role, four-eyes and gate rules, signing and outbox events whoever calls.
    /// </summary>
    /// <param name="artifactUrl">Builds the artifact URL the gateways download from, given the artifact's SHA-256.</param>
    public async Task<PromotionOutcome> PromoteAsync(PromotionOrder order, Caller caller, Func<string, string> artifactUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(artifactUrl);
        var (name, version) = (order.ModelName, order.Version);
        using var activity = RegistryTelemetry.ActivitySource.StartActivity("model promote");
        activity?.SetTag("pdm.model.name", name);
        activity?.SetTag("pdm.model.version", version);
        activity?.SetTag("pdm.model.stage", order.Stage.ToString());
        var sites = order.SiteIds?.Distinct(StringComparer.Ordinal).ToList() ?? [];
        if (order.Stage == ModelStage.Candidate || !Enum.IsDefined(order.Stage))
        {
            return Refused(OutcomeKind.Invalid, "invalid_stage", $"a version can be promoted to Shadow, Canary, Production or Archived, not {order.Stage}");
        }

        if (sites.Count == 0 || sites.Any(s => !SitePattern().IsMatch(s)))
        {
            return Refused(OutcomeKind.Invalid, "invalid_sites", "siteIds must name at least one site (letters, digits, '.', '_', '-'; at most 64 each)");
        }

        var overrideReason = string.IsNullOrWhiteSpace(order.ShadowOverrideReason) ? null : order.ShadowOverrideReason.Trim();
        if (order.ShadowOverrideReason is not null && (overrideReason is null || overrideReason.Length > MaxOverrideReasonLength || !Decides(order.Stage)))
        {
            return Refused(OutcomeKind.Invalid, "invalid_shadow_override",
                $"shadowOverrideReason applies to Canary and Production only and must be 1..{MaxOverrideReasonLength} characters saying why the shadow evidence is waived");
        }

        if (order.Stage == ModelStage.Canary ? order.CanaryShare is not (> 0 and <= 1) : order.CanaryShare is not null)
        {
            return Refused(OutcomeKind.Invalid, "invalid_canary_share",
                order.Stage == ModelStage.Canary ? "Canary needs canaryShare in (0, 1], the share of the site's assets the version drives" : "canaryShare applies to Canary only");
        }

        var record = await db.Versions.SingleOrDefaultAsync(v => v.ModelName == name && v.Version == version, cancellationToken);
        if (record is null)
        {
            return PromotionOutcome.Refused(OutcomeKind.NotFound, "not_found", $"no version '{version}' of model '{name}'");
        }

        if (Authorize(order.Stage, caller, record) is { } refusal)
        {
            return refusal;
        }

        if (overrideReason is not null && !caller.Roles.Contains(RegistryRoles.Admin))
        {
            return Refused(OutcomeKind.Forbidden, "role_required",
                $"waiving the shadow evidence needs the role '{RegistryRoles.Admin}'; '{caller.User}' has: {string.Join(", ", caller.Roles)}");
        }

        // Before anything reaches a gateway: can the sites' assets feed the version's features at all?
        FeatureCompatibility? compatibility = null;
        if (order.Stage != ModelStage.Archived)
        {
            compatibility = await FeatureCompatibilityCheck.ForAsync(db, record, sites, order.AllowPartial, cancellationToken);
            if (compatibility is not null && FeatureCompatibilityCheck.Refusal(compatibility, record) is { } mismatch)
            {
                return Refused(OutcomeKind.Conflict, "feature_mismatch", mismatch) with { Compatibility = compatibility };
            }
        }

        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock(hashtext({"pdm.registry.class:" + record.AssetClass}))", cancellationToken);
        await db.Entry(record).ReloadAsync(cancellationToken);

        if (overrideReason is not null)
        {
            LogGateOverridden(logger, record.ModelName, record.Version, order.Stage, sites, caller.User, overrideReason);
        }
        else if (await GateAsync(order.Stage, record, sites, cancellationToken) is { } gateRefusal)
        {
            return gateRefusal;
        }

        // Whatever decides for an asset is approved and signed: the gateways refuse unsigned Canary and Production packages.
        if (Decides(order.Stage) && record.Signature is null)
        {
            record.Signature = signingKey.Signer.Sign(record.PackageDigest);
            record.SigningKeyId = signingKey.Signer.KeyId;
            record.ApprovedBy = caller.User;
            record.ApprovedAt = now;
            LogSigned(logger, record.ModelName, record.Version, caller.User, record.PackageDigest, record.SigningKeyId);
        }

        var existing = await db.Deployments.Where(d => d.VersionId == record.Id && sites.Contains(d.SiteId)).ToListAsync(cancellationToken);
        var fromStage = existing.Count == 0 ? ModelStage.Candidate : existing.Max(d => d.Stage);
        var deploymentId = order.Stage == ModelStage.Archived ? (Guid?)null : Guid.CreateVersion7(now);
        var replaced = new List<string>();
        if (order.Stage != ModelStage.Archived)
        {
            // One version per stage and asset class at a site: the one this displaces is retired.
            var displaced = await (from d in db.Deployments
                                   join v in db.Versions on d.VersionId equals v.Id
                                   where v.AssetClass == record.AssetClass && v.Id != record.Id && d.Stage == order.Stage && sites.Contains(d.SiteId)
                                   select new { Deployment = d, v.PackageDigest }).ToListAsync(cancellationToken);
            foreach (var old in displaced)
            {
                old.Deployment.Stage = ModelStage.Archived;
                old.Deployment.Status = DeploymentStatus.Retired;
                old.Deployment.Detail = $"replaced by {record.ModelName}@{record.Version} in {order.Stage}";
                old.Deployment.UpdatedAt = now;
                replaced.Add(old.PackageDigest);
            }
        }

        foreach (var site in sites)
        {
            var row = existing.SingleOrDefault(d => d.SiteId == site);
            if (row is null)
            {
                row = new SiteDeployment { VersionId = record.Id, SiteId = site, PromotedBy = caller.User };
                db.Deployments.Add(row);
            }

            row.Stage = order.Stage;
            row.CanaryShare = order.CanaryShare;
            row.Status = order.Stage == ModelStage.Archived ? DeploymentStatus.Retired : DeploymentStatus.Requested;
            row.DeploymentId = deploymentId ?? row.DeploymentId;
            row.PromotedBy = caller.User;
            row.Detail = null;
            row.UpdatedAt = now;
        }

        var url = artifactUrl(record.ArtifactSha256);
        if (deploymentId is { } id)
        {
            RegistryOutbox.Enqueue(db, new ModelDeploymentRequested
            {
                DeploymentId = id,
                SiteIds = sites,
                ModelName = record.ModelName,
                ModelVersion = record.Version,
                AssetClass = record.AssetClass,
                Stage = order.Stage,
                CanaryShare = order.CanaryShare,
                ArtifactUrl = url,
                ArtifactSha256 = record.ArtifactSha256,
                PackageDigest = record.PackageDigest,
                Signature = record.Signature,
                SigningKeyId = record.SigningKeyId,
                RequestedBy = caller.User,
                OccurredAt = now,
            }, now);
        }

        RegistryOutbox.Enqueue(db, new ModelPromoted
        {
            EventId = Guid.CreateVersion7(now),
            DeploymentId = deploymentId,
            ModelName = record.ModelName,
            ModelVersion = record.Version,
            PackageDigest = record.PackageDigest,
            SiteIds = sites,
            FromStage = fromStage,
            ToStage = order.Stage,
            CanaryShare = order.CanaryShare,
            PromotedBy = caller.User,
            UploadedBy = record.UploadedBy,
            ReplacedDigests = replaced.Distinct(StringComparer.Ordinal).ToList(),
            Signature = record.Signature,
            ShadowGateOverride = overrideReason,
            Compatibility = compatibility,
            OccurredAt = now,
        }, now);

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        signal.Wake();
        telemetry.Promotions.Add(1, new KeyValuePair<string, object?>("stage", order.Stage.ToString()));
        LogPromoted(logger, record.ModelName, record.Version, order.Stage, sites, caller.User);
        if (compatibility is { } checkedSites && (checkedSites.Assets.Any(a => a.MissingSensors.Count > 0) || checkedSites.SitesWithoutAssets.Count > 0))
        {
            LogPartial(logger, record.ModelName, record.Version, order.Stage, caller.User,
                string.Join(", ", checkedSites.Assets.Where(a => a.MissingSensors.Count > 0).Select(a => $"{a.SiteId}/{a.AssetId}").Concat(checkedSites.SitesWithoutAssets)));
        }

        if (compatibility is { UncheckedSites.Count: > 0 } unreported)
        {
            LogUnchecked(logger, record.ModelName, record.Version, order.Stage, unreported.UncheckedSites);
        }

        var rows = await db.Deployments.AsNoTracking().Where(d => d.VersionId == record.Id).ToListAsync(cancellationToken);
        return new PromotionOutcome(OutcomeKind.Done, record, rows, url, null, null) { Compatibility = compatibility };
    }

    /// <summary>
    /// The gateways' shadow evidence, per target site (the same site's gateways, scoring its own assets' data): Canary
    /// and Production both need it at every target site, a first Production model of the asset class at a site
    /// included (it is about to replace the rules there, and nobody has seen it on that site's data yet). An admin may
    /// waive it with a reason (the caller checks that; the waiver is logged and audited with the promotion).
    /// </summary>
    private async Task<PromotionOutcome?> GateAsync(ModelStage stage, ModelVersionRecord record, List<string> sites, CancellationToken cancellationToken)
    {
        var gates = options.Value.PromotionGates;
        if (!gates.Enabled || !Decides(stage))
        {
            return null;
        }

        var withProduction = stage == ModelStage.Canary
            ? []
            : await (from d in db.Deployments
                     join v in db.Versions on d.VersionId equals v.Id
                     where v.AssetClass == record.AssetClass && v.Id != record.Id && d.Stage == ModelStage.Production && sites.Contains(d.SiteId)
                     select d.SiteId).Distinct().ToListAsync(cancellationToken);
        foreach (var site in sites.Order(StringComparer.Ordinal))
        {
            var evidence = await ShadowEvidence.ForAsync(db, record.PackageDigest, site, cancellationToken);
            var where = stage == ModelStage.Canary
                ? $"{record.ModelName}@{record.Version} as a canary at {site}"
                : withProduction.Contains(site)
                    ? $"{record.ModelName}@{record.Version} replaces a Production model at {site}"
                    : $"{record.ModelName}@{record.Version} as the first Production model of {record.AssetClass} at {site}";
            if (evidence.ComparedRows < gates.MinComparedRows)
            {
                return Refused(OutcomeKind.Conflict, "shadow_evidence_missing", string.Create(CultureInfo.InvariantCulture,
                    $"{where}: the site's gateways compared {evidence.ComparedRows} rows in shadow ({evidence.Reports} reports); {gates.MinComparedRows} are required"));
            }

            if (evidence.AgreementRatio < gates.MinAgreementRatio)
            {
                return Refused(OutcomeKind.Conflict, "shadow_agreement_too_low", string.Create(CultureInfo.InvariantCulture,
                    $"{where}: shadow agreement with production is {evidence.AgreementRatio:0.####} over {evidence.ComparedRows} rows; at least {gates.MinAgreementRatio:0.####} is required"));
            }

            if (evidence.CandidateFailureRatio > gates.MaxCandidateFailureRatio)
            {
                return Refused(OutcomeKind.Conflict, "shadow_errors_too_high", string.Create(CultureInfo.InvariantCulture,
                    $"{where}: the version failed on {evidence.CandidateFailedRows} shadow rows (ratio {evidence.CandidateFailureRatio:0.####}); at most {gates.MaxCandidateFailureRatio:0.####} is allowed"));
            }
        }

        return null;
    }

    /// <summary>Canary and Production decide for assets; Shadow and Archived never do.</summary>
    private static bool Decides(ModelStage stage) => stage is ModelStage.Canary or ModelStage.Production;

    private PromotionOutcome? Authorize(ModelStage stage, Caller caller, ModelVersionRecord record)
    {
        switch (stage)
        {
            case ModelStage.Production or ModelStage.Canary:
                // The uploader is told the real reason first: no role, admin included, lets them approve their own version.
                if (string.Equals(caller.User, record.UploadedBy, StringComparison.OrdinalIgnoreCase))
                {
                    return Refused(OutcomeKind.Forbidden, "four_eyes",
                        $"'{caller.User}' uploaded {record.ModelName}@{record.Version} and cannot approve it for {stage}: a second person must (four eyes)");
                }

                return caller.IsInRole(RegistryRoles.Approver)
                    ? null
                    : Refused(OutcomeKind.Forbidden, "role_required",
                        $"promotion to {stage} needs the role '{RegistryRoles.Approver}'; '{caller.User}' has: {string.Join(", ", caller.Roles)}");
            case ModelStage.Archived:
                return caller.IsInRole(RegistryRoles.DataScientist) || caller.IsInRole(RegistryRoles.Approver)
                    ? null
                    : Refused(OutcomeKind.Forbidden, "role_required", $"archiving needs the role '{RegistryRoles.DataScientist}' or '{RegistryRoles.Approver}'");
            default:
                return caller.IsInRole(RegistryRoles.DataScientist)
                    ? null
                    : Refused(OutcomeKind.Forbidden, "role_required",
                        $"promotion to {stage} needs the role '{RegistryRoles.DataScientist}'; '{caller.User}' has: {string.Join(", ", caller.Roles)}");
        }
    }

    private PromotionOutcome Refused(OutcomeKind kind, string reason, string detail)
    {
        telemetry.PromotionsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));
        LogRefused(logger, reason, detail);
        return PromotionOutcome.Refused(kind, reason, detail);
    }

    private const int MaxOverrideReasonLength = 500;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex SitePattern();

    [LoggerMessage(EventId = 3141, Level = LogLevel.Information, Message = "{ModelName}@{ModelVersion} promoted to {Stage} at {Sites} by {User}")]
    private static partial void LogPromoted(ILogger logger, string modelName, string modelVersion, ModelStage stage, IReadOnlyList<string> sites, string user);

    [LoggerMessage(EventId = 3142, Level = LogLevel.Information, Message = "{ModelName}@{ModelVersion} approved by {User}: digest {Digest} signed with key {KeyId}")]
    private static partial void LogSigned(ILogger logger, string modelName, string modelVersion, string user, string digest, string keyId);

    [LoggerMessage(EventId = 3144, Level = LogLevel.Warning, Message = "{ModelName}@{ModelVersion} to {Stage} at {Sites}: shadow evidence waived by admin {User}: {OverrideReason}")]
    private static partial void LogGateOverridden(ILogger logger, string modelName, string modelVersion, ModelStage stage, IReadOnlyList<string> sites, string user, string overrideReason);

    [LoggerMessage(EventId = 3145, Level = LogLevel.Warning, Message = "{ModelName}@{ModelVersion} to {Stage} deployed partially by {User} (allowPartial): these keep the rules, their sensors cannot feed its features: {FallbackAssets}")]
    private static partial void LogPartial(ILogger logger, string modelName, string modelVersion, ModelStage stage, string user, string fallbackAssets);

    [LoggerMessage(EventId = 3146, Level = LogLevel.Information, Message = "{ModelName}@{ModelVersion} to {Stage}: feature compatibility not checked at {Sites}: no gateway there has reported its assets yet (its gateway checks when it loads the version)")]
    private static partial void LogUnchecked(ILogger logger, string modelName, string modelVersion, ModelStage stage, IReadOnlyList<string> sites);

    [LoggerMessage(EventId = 3143, Level = LogLevel.Warning, Message = "Promotion refused: {Reason}: {Detail}")]
    private static partial void LogRefused(ILogger logger, string reason, string detail);
}

/// <summary>
/// Which version goes to which stage at which sites (<paramref name="CanaryShare"/>: the share of each site's assets,
/// Canary only; <paramref name="ShadowOverrideReason"/>: an admin's reason to waive the shadow evidence;
/// <paramref name="AllowPartial"/>: deploy even though some assets' sensors cannot feed the version's features, which keep the rules).
/// </summary>
public sealed record PromotionOrder(string ModelName, string Version, ModelStage Stage, IReadOnlyList<string>? SiteIds, double? CanaryShare, string? ShadowOverrideReason = null, bool AllowPartial = false);

/// <summary>A promotion's result: the version and its site rows, or the refusal's kind, reason code and detail.</summary>
public sealed record PromotionOutcome(OutcomeKind Kind, ModelVersionRecord? Version, IReadOnlyList<SiteDeployment> Sites, string? ArtifactUrl, string? Reason, string? Detail)
{
    public bool Promoted => Reason is null;

    /// <summary>The feature-compatibility check of the target sites (null for Archived): on success and on a <c>feature_mismatch</c> refusal.</summary>
    public FeatureCompatibility? Compatibility { get; init; }

    public static PromotionOutcome Refused(OutcomeKind kind, string reason, string detail) => new(kind, null, [], null, reason, detail);
}
