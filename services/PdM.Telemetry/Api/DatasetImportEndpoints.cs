using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using PdM.Features;
using PdM.Security;
using PdM.Telemetry.Persistence;
using PdM.Telemetry.Store;
using PdM.Training;

namespace PdM.Telemetry.Api;

/// <summary>
/// <c>POST /api/feature-store/imports/{cmapss|ai4i}?specDigest=…</c>: a public data set's file as the body, its
/// features computed with a registered spec and written with their labels (<see cref="DatasetImporter"/>). The same
/// file and spec imported twice write nothing the second time (200 instead of 201).
/// </summary>
internal static class DatasetImportEndpoints
{
    /// <summary>Largest data set file accepted by <c>POST /api/feature-store/imports/{dataset}</c>.</summary>
    public const long MaxImportBytes = 32L * 1024 * 1024;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/feature-store/imports/{dataset}", async (string dataset, string? specDigest, string? name, int? rulCap, HttpRequest http,
            TelemetryDbContext db, DatasetImporter importer, CancellationToken cancellationToken) =>
        {
            if (dataset is not ("cmapss" or "ai4i"))
            {
                return Results.Problem("dataset must be cmapss (a C-MAPSS train_FD00x.txt) or ai4i (ai4i2020.csv)", statusCode: StatusCodes.Status400BadRequest);
            }

            var specRecord = string.IsNullOrWhiteSpace(specDigest) ? null : await db.FeatureSpecs.AsNoTracking().SingleOrDefaultAsync(s => s.Digest == specDigest, cancellationToken);
            if (specRecord is null)
            {
                return Results.Problem($"specDigest '{specDigest}' names no registered feature spec: PUT /api/feature-store/specs/{{name}} first", statusCode: StatusCodes.Status400BadRequest);
            }

            if (rulCap is <= 0)
            {
                return Results.Problem("rulCap must be positive", statusCode: StatusCodes.Status400BadRequest);
            }

            using var body = new MemoryStream();
            await http.Body.CopyToAsync(body, cancellationToken);
            var spec = FeatureSpec.Parse(specRecord.SpecJson);
            DatasetImportResult result;
            if (dataset == "cmapss")
            {
                if (string.IsNullOrWhiteSpace(name) || name.Length > 100)
                {
                    return Results.Problem("name (the file's name without extension, e.g. train_FD001; ≤ 100 characters) is required for cmapss", statusCode: StatusCodes.Status400BadRequest);
                }

                var cmapss = CmapssDataset.Parse(name, body.ToArray());
                if (Unusable(cmapss.Rows.Count, cmapss.Problems) is { } problem)
                {
                    return problem;
                }

                result = await importer.ImportCmapssAsync(cmapss, spec, rulCap ?? CmapssTraining.DefaultRulCap, cancellationToken: cancellationToken);
            }
            else
            {
                Ai4iDataset ai4i;
                try
                {
                    ai4i = Ai4iDataset.Parse(body.ToArray());
                }
                catch (InvalidDataException ex)
                {
                    return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
                }

                if (Unusable(ai4i.Rows.Count, ai4i.Problems) is { } problem)
                {
                    return problem;
                }

                result = await importer.ImportAi4iAsync(ai4i, spec, cancellationToken: cancellationToken);
            }

            return Results.Json(DatasetImportResponse.Of(result), TelemetryJsonContext.Default.DatasetImportResponse,
                statusCode: result.AlreadyImported ? StatusCodes.Status200OK : StatusCodes.Status201Created);
        }).WithTags("Feature store").RequireAuthorization(PdMPolicies.TrainingWrite)
            // The file is read whole into memory; the largest public file (C-MAPSS train_FD004) is ~11 MB.
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxImportBytes));
    }

    /// <summary>A file with a malformed line is refused whole: a training set silently missing rows is worse than none.</summary>
    private static IResult? Unusable(int rows, IReadOnlyList<string> problems)
    {
        if (problems.Count > 0)
        {
            return Results.Problem(string.Create(CultureInfo.InvariantCulture, $"{problems.Count} malformed line(s), e.g. {string.Join("; ", problems.Take(3))}"),
                statusCode: StatusCodes.Status400BadRequest);
        }

        return rows == 0 ? Results.Problem("the file holds no rows", statusCode: StatusCodes.Status400BadRequest) : null;
    }
}
