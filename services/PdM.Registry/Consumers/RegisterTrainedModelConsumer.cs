using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PdM.Contracts.Registry;
using PdM.Persistence;
using PdM.Registry.Application;
using PdM.Registry.Artifacts;
using PdM.Registry.Outbox;
using PdM.Registry.Persistence;

namespace PdM.Registry.Consumers;

/// <summary>
/// Registers a package a training run produced, through exactly the HTTP upload's validation and storage
/// (<see cref="ModelRegistrations.RegisterAsync"/>): the requester is the uploader (else <c>training-run:{id}</c>), and
/// the run and dataset snapshot are recorded on the version and in its <see cref="ModelVersionRegistered"/>. One
/// version per run: a redelivered command finds the version (or the recorded rejection) and adds nothing. A refused
/// package is recorded and announced as <see cref="ModelVersionRejected"/> with the validation's reason.
/// </summary>
public sealed partial class RegisterTrainedModelConsumer(
    RegistryDbContext db,
    ModelRegistrations registrations,
    ArtifactAddresses addresses,
    OutboxSignal<RegistryDbContext> signal,
    TimeProvider clock,
    ILogger<RegisterTrainedModelConsumer> logger) : IConsumer<RegisterTrainedModel>
{
    public async Task Consume(ConsumeContext<RegisterTrainedModel> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var command = context.Message;
        var ct = context.CancellationToken;
        var existing = await db.Versions.AsNoTracking().SingleOrDefaultAsync(v => v.TrainingRunId == command.TrainingRunId, ct);
        if (existing is not null)
        {
            // Redelivered (or registered before a crash that lost the ack).
            LogAlreadyRegistered(logger, command.TrainingRunId, existing.ModelName, existing.Version);
            return;
        }

        if (await db.TrainedModelRejections.AsNoTracking().AnyAsync(r => r.TrainingRunId == command.TrainingRunId, ct))
        {
            LogAlreadyRejected(logger, command.TrainingRunId);
            return;
        }

        var uploader = string.IsNullOrWhiteSpace(command.RequestedBy) ? "training-run:" + command.TrainingRunId.ToString("D") : command.RequestedBy.Trim();
        using var model = new MemoryStream(command.ModelOnnx, writable: false);
        using var manifest = new MemoryStream(command.ManifestJson, writable: false);
        var outcome = await registrations.RegisterAsync(
            new PackageSubmission(command.ModelName, uploader, addresses.For,
                new TrainedPackageProvenance(command.TrainingRunId, command.DatasetSnapshotId, command.DatasetDigest), command.ModelCardJson),
            model, manifest, ct);

        if (outcome.Version is not null)
        {
            return;
        }

        // A concurrent delivery of the same command won the unique run id: that is not a rejection.
        db.ChangeTracker.Clear();
        if (await db.Versions.AsNoTracking().AnyAsync(v => v.TrainingRunId == command.TrainingRunId, ct))
        {
            return;
        }

        await RecordRejectionAsync(command, uploader, outcome.Reason!, outcome.Detail!, ct);
    }

    private async Task RecordRejectionAsync(RegisterTrainedModel command, string requestedBy, string reason, string detail, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        db.TrainedModelRejections.Add(new TrainedModelRejection
        {
            TrainingRunId = command.TrainingRunId,
            DatasetSnapshotId = command.DatasetSnapshotId,
            ModelName = ColumnText.Clip(command.ModelName, 128),
            ModelVersion = ColumnText.Clip(command.ModelVersion, 64),
            RequestedBy = ColumnText.Clip(requestedBy, 128),
            PackageDigest = command.PackageDigest,
            Reason = ColumnText.Clip(reason, 64),
            Detail = ColumnText.Clip(detail, 4000),
            RejectedAt = now,
        });
        RegistryOutbox.Enqueue(db, new ModelVersionRejected
        {
            EventId = Guid.CreateVersion7(now),
            ModelName = command.ModelName,
            ModelVersion = command.ModelVersion,
            AssetClass = command.AssetClass,
            TrainingRunId = command.TrainingRunId,
            DatasetSnapshotId = command.DatasetSnapshotId,
            DatasetDigest = command.DatasetDigest,
            PackageDigest = command.PackageDigest,
            RequestedBy = requestedBy,
            Reason = reason,
            Detail = detail,
            OccurredAt = now,
        }, now);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException exception) when (exception.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
        {
            // Another delivery recorded the same rejection first.
            return;
        }

        signal.Wake();
        LogRejected(logger, command.TrainingRunId, command.ModelName, command.ModelVersion, reason, detail);
    }

    [LoggerMessage(EventId = 3161, Level = LogLevel.Information, Message = "Training run {RunId} is already registered as {ModelName}@{ModelVersion}; nothing new")]
    private static partial void LogAlreadyRegistered(ILogger logger, Guid runId, string modelName, string modelVersion);

    [LoggerMessage(EventId = 3162, Level = LogLevel.Information, Message = "Training run {RunId}'s package was already rejected; nothing new")]
    private static partial void LogAlreadyRejected(ILogger logger, Guid runId);

    [LoggerMessage(EventId = 3163, Level = LogLevel.Warning, Message = "Package of training run {RunId} ({ModelName}@{ModelVersion}) rejected: {Reason}: {Detail}")]
    private static partial void LogRejected(ILogger logger, Guid runId, string modelName, string modelVersion, string reason, string detail);
}
