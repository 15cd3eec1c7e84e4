using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using PdM.Registry.Artifacts;
using PdM.Registry.Identity;
using PdM.Registry.Persistence;
using PdM.Registry.Signing;
using PdM.Security;

namespace PdM.Registry.Api;

internal static class ArtifactEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        // Content-addressed, so immutable: the ETag is the address, and ranges let a gateway on a poor link resume.
        endpoints.MapGet("/api/artifacts/{sha256}", async (string sha256, HttpContext context, IArtifactStore store, RegistryDbContext db, CancellationToken cancellationToken) =>
        {
            if (!ArtifactAddress.IsValid(sha256))
            {
                return RegistryProblems.BadRequest("invalid_address", $"'{sha256}' is not a SHA-256 address (64 lower-case hex characters)");
            }

            if (await GatewaySiteRefusalAsync(context.User, sha256, db, cancellationToken) is { } refusal)
            {
                return refusal;
            }

            var info = await store.FindAsync(sha256, cancellationToken);
            var stream = info is null ? null : await store.OpenReadAsync(sha256, cancellationToken);
            if (info is null || stream is null)
            {
                return RegistryProblems.Problem(StatusCodes.Status404NotFound, "not_found", "No such artifact", $"no artifact {sha256}");
            }

            return Results.File(stream, "application/zip", fileDownloadName: null, lastModified: info.StoredAt,
                entityTag: new EntityTagHeaderValue($"\"{sha256}\""), enableRangeProcessing: true);
        }).WithTags("Artifacts").RequireAuthorization(PdMPolicies.ArtifactsDownload);

        // The public key gateways are configured with (Gateway signature verification); public by nature.
        endpoints.MapGet("/api/signing/public-key", (RegistrySigningKey key) =>
            Results.Text(key.Signer.ExportPublicKeyPem(), "application/x-pem-file")).WithTags("Artifacts").AllowAnonymous();
    }

    /// <summary>
    /// A caller who is only a gateway downloads only what is deployed at its own site (token claim <c>site</c>): a
    /// gateway's credentials must not fetch another site's models. Data scientists, approvers and admins download any.
    /// </summary>
    private static async Task<IResult?> GatewaySiteRefusalAsync(ClaimsPrincipal user, string sha256, RegistryDbContext db, CancellationToken cancellationToken)
    {
        var caller = user.ToPdMCaller();
        if (caller is null || caller.IsInRole(RegistryRoles.DataScientist) || caller.IsInRole(RegistryRoles.Approver))
        {
            return caller is null ? RegistryProblems.Unauthenticated() : null;
        }

        if (caller.Site is not { } site)
        {
            return RegistryProblems.Forbidden("site_required", "a gateway token must carry the claim 'site' to download artifacts");
        }

        var deployed = await db.Deployments.AsNoTracking()
            .Join(db.Versions.AsNoTracking(), d => d.VersionId, v => v.Id, (d, v) => new { d.SiteId, v.ArtifactSha256 })
            .AnyAsync(x => x.SiteId == site && x.ArtifactSha256 == sha256, cancellationToken);
        return deployed ? null : RegistryProblems.Forbidden("not_deployed_at_site", $"artifact {sha256} belongs to no model version deployed at site '{site}'");
    }
}
