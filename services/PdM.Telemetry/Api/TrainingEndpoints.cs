using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using PdM.Contracts.Training;
using PdM.Security;
using PdM.Telemetry.Persistence;
using PdM.Telemetry.Training;

namespace PdM.Telemetry.Api;

internal static class TrainingEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var runs = endpoints.MapGroup("/api/training/runs").WithTags("Training");

        runs.MapPost("/", async (TrainRunRequest request, System.Security.Claims.ClaimsPrincipal caller, TrainingRunScheduler scheduler, TimeProvider clock, CancellationToken cancellationToken) =>
        {
            if (!Enum.TryParse<TrainingTaskKind>(request.Task, ignoreCase: true, out var task) || !Enum.IsDefined(task))
            {
                return Results.Problem("task must be RulRegression or FailureClassification", statusCode: StatusCodes.Status400BadRequest);
            }

            var algorithm = TrainingAlgorithm.FastTree;
            if (request.Algorithm is not null && (!Enum.TryParse(request.Algorithm, ignoreCase: true, out algorithm) || !Enum.IsDefined(algorithm)))
            {
                return Results.Problem("algorithm must be FastTree or LightGbm", statusCode: StatusCodes.Status400BadRequest);
            }

            var command = new TrainModel
            {
                RunId = request.RunId ?? Guid.CreateVersion7(clock.GetUtcNow()),
                SnapshotId = request.SnapshotId,
                Task = task,
                Algorithm = algorithm,
                ModelName = request.ModelName ?? string.Empty,
                ModelVersion = request.ModelVersion ?? "1.0.0",
                AssetClass = request.AssetClass ?? string.Empty,
                Hyperparameters = request.Hyperparameters ?? new TrainingHyperparameters(),
                FailureMode = request.FailureMode,
                Seed = request.Seed ?? 42,
                Folds = request.Folds ?? 0,
                // The authenticated user, not a name in the body: the registry makes the requester the uploader (four eyes).
                RequestedBy = caller.ToPdMCaller()?.User ?? request.RequestedBy,
                OccurredAt = clock.GetUtcNow(),
            };
            var result = await scheduler.ScheduleAsync(command, cancellationToken);
            if (result.Run is null)
            {
                return Results.Problem(result.Problem, statusCode: StatusCodes.Status400BadRequest);
            }

            var body = TrainingRunResponse.From(result.Run);
            return Results.Json(body, TelemetryJsonContext.Default.TrainingRunResponse,
                statusCode: result.Created ? StatusCodes.Status202Accepted : StatusCodes.Status200OK);
        }).RequireAuthorization(PdMPolicies.TrainingWrite);

        runs.MapGet("/{id:guid}", async (Guid id, TelemetryDbContext db, CancellationToken cancellationToken) =>
        {
            var run = await db.TrainingRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
            return run is null
                ? Results.NotFound()
                : Results.Json(TrainingRunResponse.From(run), TelemetryJsonContext.Default.TrainingRunResponse);
        }).RequireAuthorization(PdMPolicies.TrainingRead);

        runs.MapGet("/{id:guid}/card", async (Guid id, TelemetryDbContext db, CancellationToken cancellationToken) =>
        {
            var run = await db.TrainingRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
            if (run is null)
            {
                return Results.NotFound();
            }

            return run.CardMarkdown is null
                ? Results.Problem($"run {id} is {run.Status} ({run.Stage}); the card exists once it succeeded", statusCode: StatusCodes.Status409Conflict)
                : Results.Text(run.CardMarkdown, "text/markdown; charset=utf-8");
        }).RequireAuthorization(PdMPolicies.TrainingRead);
    }
}
