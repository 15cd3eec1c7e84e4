using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using PdM.Features;
using PdM.Security;
using PdM.Telemetry.Persistence;
using PdM.Telemetry.Store;

namespace PdM.Telemetry.Api;

internal static class SnapshotEndpoints
{
    /// <summary>Largest feature spec body accepted by <c>PUT /api/feature-store/specs/{name}</c>.</summary>
    public const long MaxSpecBytes = 1024 * 1024;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        // Gateways send only the spec digest with each batch; the spec itself is registered once so snapshots of
        // gateway rows can be trained with exactly the features the gateway computed.
        endpoints.MapPut("/api/feature-store/specs/{name}", async (string name, HttpRequest http, TelemetryDbContext db, TimeProvider clock, CancellationToken cancellationToken) =>
        {
            using var reader = new StreamReader(http.Body);
            var json = await reader.ReadToEndAsync(cancellationToken);
            FeatureSpec spec;
            try
            {
                spec = FeatureSpec.Parse(json);
                spec.Validate();
            }
            catch (FeatureSpecException ex)
            {
                return Results.Problem("not a valid feature spec: " + string.Join("; ", ex.Errors), statusCode: StatusCodes.Status400BadRequest);
            }

            var digest = FeatureSpecDigest.Compute(spec);
            if (!await db.FeatureSpecs.AnyAsync(s => s.Digest == digest, cancellationToken))
            {
                db.FeatureSpecs.Add(new FeatureSpecRecord { Digest = digest, Name = name.Length > 200 ? name[..200] : name, SpecJson = spec.ToJson(), RegisteredAt = clock.GetUtcNow() });
                await db.SaveChangesAsync(cancellationToken);
            }

            return Results.Text(digest, "text/plain; charset=utf-8");
        }).WithTags("Feature store").RequireAuthorization(PdMPolicies.TrainingWrite)
            // A spec is a few KiB of JSON read whole into memory: anything near the limit is abuse, refused with 413.
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxSpecBytes));

        // The spec registered last under a name: what `pdm model package --spec NAME` packages a model with.
        endpoints.MapGet("/api/feature-store/specs/{name}", async (string name, TelemetryDbContext db, CancellationToken cancellationToken) =>
        {
            var record = await db.FeatureSpecs.AsNoTracking().Where(s => s.Name == name).OrderByDescending(s => s.RegisteredAt)
                .FirstOrDefaultAsync(cancellationToken);
            return record is null
                ? Results.Problem($"no feature spec is registered under the name '{name}'", statusCode: StatusCodes.Status404NotFound)
                : Results.Text(record.SpecJson, "application/json; charset=utf-8");
        }).WithTags("Feature store").RequireAuthorization(PdMPolicies.TrainingRead);

        var snapshots = endpoints.MapGroup("/api/feature-store/snapshots").WithTags("Feature store");

        snapshots.MapPost("/", async (CreateSnapshotRequest request, SnapshotService service, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrWhiteSpace(request.Name) || string.IsNullOrWhiteSpace(request.Source) || string.IsNullOrWhiteSpace(request.SpecDigest))
            {
                return Results.Problem("name, source and specDigest are required", statusCode: StatusCodes.Status400BadRequest);
            }

            var kind = request.LabelKind ?? LabelKinds.Rul;
            if (kind is not (LabelKinds.Rul or LabelKinds.Failure))
            {
                return Results.Problem("labelKind must be rul or failure", statusCode: StatusCodes.Status400BadRequest);
            }

            var snapshot = await service.CreateAsync(new SnapshotRequest
            {
                Name = request.Name,
                Source = request.Source,
                SpecDigest = request.SpecDigest,
                LabelKind = kind,
                From = request.From ?? DateTimeOffset.UnixEpoch,
                To = request.To ?? new DateTimeOffset(9999, 1, 1, 0, 0, 0, TimeSpan.Zero),
            }, cancellationToken);
            return Results.Json(SnapshotResponse.Of(snapshot), TelemetryJsonContext.Default.SnapshotResponse, statusCode: StatusCodes.Status201Created);
        }).RequireAuthorization(PdMPolicies.TrainingWrite);

        snapshots.MapGet("/{id:guid}", async (Guid id, TelemetryDbContext db, CancellationToken cancellationToken) =>
        {
            var snapshot = await db.Snapshots.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, cancellationToken);
            return snapshot is null ? Results.NotFound() : Results.Json(SnapshotResponse.Of(snapshot), TelemetryJsonContext.Default.SnapshotResponse);
        }).RequireAuthorization(PdMPolicies.TrainingRead);

        // A snapshot's rows as CSV (group, time index, the spec's features in order, label, target), read through the
        // recorded query and refused (409) when they no longer hash to the snapshot's digest: a model packaged from
        // them (`pdm model package --data SNAPSHOT`) carries that digest as its dataset provenance.
        snapshots.MapGet("/{id:guid}/rows", async (Guid id, SnapshotService service, CancellationToken cancellationToken) =>
        {
            var (data, problem) = await service.ReadAsync(id, cancellationToken);
            if (data is null)
            {
                return Results.Problem(problem, statusCode: problem!.Contains("does not exist", StringComparison.Ordinal) ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict);
            }

            return Results.Text(SnapshotCsv.Write(data.Set), "text/csv; charset=utf-8");
        }).RequireAuthorization(PdMPolicies.TrainingRead);
    }
}
