using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using PdM.Registry.Application;
using PdM.Registry.Identity;
using PdM.Registry.Persistence;
using PdM.Security;

namespace PdM.Registry.Api;

internal static class ModelEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/models").WithTags("Models");

        // Every model version and ruleset with recorded outcomes: how often the work orders it raised confirmed a failure.
        endpoints.MapGet("/api/live-precision", async (RegistryDbContext db, CancellationToken cancellationToken) =>
            Results.Ok(await LivePerformance.AllAsync(db, cancellationToken))).WithTags("Models").RequireAuthorization(PdMPolicies.ModelsRead);

        group.MapGet("/", async (RegistryDbContext db, CancellationToken cancellationToken) =>
        {
            var models = await db.Models.AsNoTracking().OrderBy(m => m.Name).ToListAsync(cancellationToken);
            var counts = await db.Versions.AsNoTracking().GroupBy(v => v.ModelName).Select(g => new { g.Key, Count = g.Count() })
                .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
            return Results.Ok(models.Select(m => new ModelSummaryResponse(m.Name, m.AssetClass, m.CreatedBy, m.CreatedAt, counts.GetValueOrDefault(m.Name))).ToList());
        }).RequireAuthorization(PdMPolicies.ModelsRead);

        group.MapGet("/{name}/versions", async (string name, HttpRequest request, RegistryDbContext db, ArtifactLinks links, CancellationToken cancellationToken) =>
        {
            if (!await db.Models.AnyAsync(m => m.Name == name, cancellationToken))
            {
                return RegistryProblems.Problem(StatusCodes.Status404NotFound, "not_found", "No such model", $"no model '{name}'");
            }

            var versions = await db.Versions.AsNoTracking().Where(v => v.ModelName == name).OrderBy(v => v.UploadedAt).ToListAsync(cancellationToken);
            var ids = versions.Select(v => v.Id).ToList();
            var sites = await db.Deployments.AsNoTracking().Where(d => ids.Contains(d.VersionId)).ToListAsync(cancellationToken);
            return Results.Ok(versions.Select(v => ModelVersionResponse.From(v, sites.Where(s => s.VersionId == v.Id), links.For(request, v.ArtifactSha256))).ToList());
        }).RequireAuthorization(PdMPolicies.ModelsRead);

        group.MapGet("/{name}/versions/{version}", async (string name, string version, HttpRequest request, RegistryDbContext db, ArtifactLinks links, CancellationToken cancellationToken) =>
        {
            var record = await db.Versions.AsNoTracking().SingleOrDefaultAsync(v => v.ModelName == name && v.Version == version, cancellationToken);
            if (record is null)
            {
                return RegistryProblems.Problem(StatusCodes.Status404NotFound, "not_found", "No such model version", $"no version '{version}' of model '{name}'");
            }

            var sites = await db.Deployments.AsNoTracking().Where(d => d.VersionId == record.Id).ToListAsync(cancellationToken);
            return Results.Ok(ModelVersionResponse.From(record, sites, links.For(request, record.ArtifactSha256)) with
            {
                Shadow = await ShadowEvidence.ForAsync(db, record.PackageDigest, cancellationToken),
                Live = await LivePerformance.ForAsync(db, LivePerformance.ModelPath, name, version, cancellationToken),
                Drift = await DriftReport.LatestAsync(db, record.PackageDigest, cancellationToken),
                CardUrl = await db.Cards.AnyAsync(c => c.VersionId == record.Id, cancellationToken) ? links.CardFor(request, name, version) : null,
            });
        }).RequireAuthorization(PdMPolicies.ModelsRead);

        ModelCardEndpoints.Map(group);

        group.MapPost("/{name}/versions", async (string name, HttpContext context, ModelUploads uploads) =>
        {
            if (Caller.From(context.User) is not { } caller)
            {
                return RegistryProblems.Unauthenticated();
            }

            // The package limits apply, not Kestrel's 30 MB default: the validation below names the exact limit.
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            {
                size.MaxRequestBodySize = uploads.MaxRequestBytes;
            }

            return await uploads.UploadAsync(name, caller, context.Request, context.RequestAborted);
        }).DisableAntiforgery().RequireAuthorization(PdMPolicies.ModelsPush);

        // The policy admits data scientists and approvers; which stage each may reach, and four eyes, are the promotion's rules.
        group.MapPost("/{name}/versions/{version}/promote", async (string name, string version, PromotionRequest body, HttpContext context, Promotions promotions, ArtifactLinks links) =>
        {
            if (Caller.From(context.User) is not { } caller)
            {
                return RegistryProblems.Unauthenticated();
            }

            var order = new PromotionOrder(name, version, body.Stage, body.SiteIds, body.CanaryShare, body.ShadowOverrideReason, body.AllowPartial);
            var outcome = await promotions.PromoteAsync(order, caller, sha256 => links.For(context.Request, sha256), context.RequestAborted);
            return outcome.ToResult();
        }).RequireAuthorization(PdMPolicies.ModelsPromote);
    }
}
