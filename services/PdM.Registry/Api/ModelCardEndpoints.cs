using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using PdM.ModelPackage.Cards;
using PdM.Registry.Application;
using PdM.Registry.Persistence;
using PdM.Security;

namespace PdM.Registry.Api;

/// <summary>
/// <c>GET /api/models/{name}/versions/{version}/card</c>: the model card the version was pushed with, and the gateways'
/// shadow agreement with it as reports arrive. <c>Accept: text/html</c> gets the page an approver reads (figures
/// inline); anything else the numbers as JSON.
/// </summary>
internal static class ModelCardEndpoints
{
    public static void Map(IEndpointRouteBuilder models)
    {
        models.MapGet("/{name}/versions/{version}/card", async (string name, string version, HttpRequest request, RegistryDbContext db, CancellationToken cancellationToken) =>
        {
            var record = await db.Versions.AsNoTracking().SingleOrDefaultAsync(v => v.ModelName == name && v.Version == version, cancellationToken);
            if (record is null)
            {
                return RegistryProblems.Problem(StatusCodes.Status404NotFound, "not_found", "No such model version", $"no version '{version}' of model '{name}'");
            }

            var stored = await db.Cards.AsNoTracking().SingleOrDefaultAsync(c => c.VersionId == record.Id, cancellationToken);
            if (stored is null)
            {
                return RegistryProblems.Problem(StatusCodes.Status404NotFound, "card_missing", "No model card",
                    $"{name}@{version} was pushed without a model-card.json: training writes one, and `pdm model package` does when given --label");
            }

            var shadow = await ShadowEvidence.OverTimeAsync(db, record.PackageDigest, cancellationToken);
            if (WantsHtml(request) && ModelCardDocument.Parse(Encoding.UTF8.GetBytes(stored.CardJson)).Card is { } card)
            {
                var sites = await db.Deployments.AsNoTracking().Where(d => d.VersionId == record.Id).OrderBy(d => d.SiteId).ToListAsync(cancellationToken);
                List<(string, string)> facts =
                [
                    ("package digest", record.PackageDigest),
                    ("uploaded", string.Create(CultureInfo.InvariantCulture, $"{record.UploadedBy} at {record.UploadedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC")),
                    ("approved", record.ApprovedBy is null ? "not yet" : string.Create(CultureInfo.InvariantCulture, $"{record.ApprovedBy} at {record.ApprovedAt!.Value.UtcDateTime:yyyy-MM-dd HH:mm} UTC")),
                    ("dataset", record.DatasetDigest ?? "not recorded"),
                    ("stages", sites.Count == 0 ? "Candidate" : string.Join(", ", sites.Select(s => $"{s.SiteId}: {s.Stage} {s.Status}"))),
                ];
                return Results.Content(ModelCardPage.Render(card, facts, shadow), "text/html; charset=utf-8");
            }

            using var json = JsonDocument.Parse(stored.CardJson);
            return Results.Ok(new ModelCardResponse(record.ModelName, record.Version, record.PackageDigest, json.RootElement.Clone(),
                shadow, shadow.Sum(s => s.ComparedRows), shadow.Sum(s => s.AgreedRows)));
        }).RequireAuthorization(PdMPolicies.ModelsRead);
    }

    /// <summary>A browser asks for HTML first; a client that names no type, or JSON, gets JSON.</summary>
    private static bool WantsHtml(HttpRequest request) =>
        request.GetTypedHeaders().Accept is { Count: > 0 } accept
        && accept.Where(a => a.MediaType.HasValue).OrderByDescending(a => a.Quality ?? 1)
            .FirstOrDefault(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase) || a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)) is { } first
        && first.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The card as JSON: the numbers as pushed, and the shadow reports so far.</summary>
internal sealed record ModelCardResponse(
    string ModelName,
    string Version,
    string PackageDigest,
    JsonElement Card,
    IReadOnlyList<ShadowAgreementPoint> ShadowReports,
    long ShadowComparedRows,
    long ShadowAgreedRows);
