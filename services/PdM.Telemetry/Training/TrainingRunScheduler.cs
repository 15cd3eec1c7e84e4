using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PdM.Contracts.Training;
using PdM.Telemetry.Persistence;

namespace PdM.Telemetry.Training;

/// <summary>The outcome of a <c>TrainModel</c> command: the run (new or the existing one with that id), or why it was refused.</summary>
public sealed record ScheduleResult(TrainingRunRecord? Run, bool Created, string? Problem);

/// <summary>Validates a <c>TrainModel</c> command, stores the run as Queued and hands its id to the background runner.</summary>
public sealed partial class TrainingRunScheduler(TelemetryDbContext db, TrainingRunChannel queue, TimeProvider clock, ILogger<TrainingRunScheduler> logger)
{
    public async Task<ScheduleResult> ScheduleAsync(TrainModel command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var existing = await db.TrainingRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == command.RunId, cancellationToken);
        if (existing is not null)
        {
            return new ScheduleResult(existing, false, null);
        }

        var problem = await ValidateAsync(command, cancellationToken);
        if (problem is not null)
        {
            LogRefused(logger, command.RunId, problem);
            return new ScheduleResult(null, false, problem);
        }

        var run = new TrainingRunRecord
        {
            Id = command.RunId,
            SnapshotId = command.SnapshotId,
            Status = TrainingRunStatus.Queued,
            Stage = "queued",
            RequestJson = JsonSerializer.Serialize(command, TrainingContractsJsonContext.Default.TrainModel),
            QueuedAt = clock.GetUtcNow(),
        };
        db.TrainingRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        if (!queue.TryEnqueue(run.Id))
        {
            // Stored as Queued: the runner picks it up at its next start even though the in-process queue was full.
            return new ScheduleResult(run, true, "the training queue is full; the run stays queued until the runner restarts");
        }

        LogQueued(logger, run.Id, command.SnapshotId, command.Task, command.Algorithm);
        return new ScheduleResult(run, true, null);
    }

    private async Task<string?> ValidateAsync(TrainModel command, CancellationToken cancellationToken)
    {
        if (command.RunId == Guid.Empty)
        {
            return "runId is required";
        }

        if (string.IsNullOrWhiteSpace(command.ModelName) || command.ModelName.Length > 100 || string.IsNullOrWhiteSpace(command.AssetClass))
        {
            return "modelName (≤ 100 characters) and assetClass are required";
        }

        if (!RegistrableName().IsMatch(command.ModelName))
        {
            // The registry refuses other names; better now than after the training time.
            return $"modelName '{command.ModelName}' must start with a letter or digit and hold only letters, digits, '.', '_' and '-' (the registry's model names)";
        }

        if (command.Folds is 1 or < 0 or > 20)
        {
            return "folds must be 0 (no evaluation) or in [2, 20]";
        }

        if (!PdM.ModelPackage.SemanticVersion.TryParse(command.ModelVersion, out _))
        {
            return $"modelVersion '{command.ModelVersion}' is not a semantic version";
        }

        try
        {
            TrainingRunner.ToTreeOptions(command).Validate();
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }

        return await db.Snapshots.AnyAsync(s => s.Id == command.SnapshotId, cancellationToken) ? null : $"snapshot {command.SnapshotId} does not exist";
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial System.Text.RegularExpressions.Regex RegistrableName();

    [LoggerMessage(EventId = 7301, Level = LogLevel.Information, Message = "Training run {RunId} queued: snapshot {SnapshotId}, {Task} with {Algorithm}")]
    private static partial void LogQueued(ILogger logger, Guid runId, Guid snapshotId, TrainingTaskKind task, TrainingAlgorithm algorithm);

    [LoggerMessage(EventId = 7302, Level = LogLevel.Warning, Message = "TrainModel {RunId} refused: {Problem}")]
    private static partial void LogRefused(ILogger logger, Guid runId, string problem);
}
