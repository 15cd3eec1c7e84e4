using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PdM.Contracts.Registry;
using PdM.Telemetry.Persistence;

namespace PdM.Telemetry.Consumers;

/// <summary>
/// The registry's answer to a run's <see cref="RegisterTrainedModel"/>, recorded on the run so its API shows whether
/// the package became a Candidate or why it was refused. Setting the same answer twice changes nothing, so a
/// redelivery needs no inbox row; events about versions no run of this module produced are ignored.
/// </summary>
public sealed partial class TrainedModelRegistrationConsumer(TelemetryDbContext db, ILogger<TrainedModelRegistrationConsumer> logger)
    : IConsumer<ModelVersionRegistered>, IConsumer<ModelVersionRejected>
{
    public Task Consume(ConsumeContext<ModelVersionRegistered> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        return RecordAsync(m.TrainingRunId, RegistrationStatuses.Registered, $"{m.ModelName}@{m.ModelVersion}", context.CancellationToken);
    }

    public Task Consume(ConsumeContext<ModelVersionRejected> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        return RecordAsync(m.TrainingRunId, RegistrationStatuses.Rejected, $"{m.Reason}: {m.Detail}", context.CancellationToken);
    }

    private async Task RecordAsync(Guid? runId, string status, string detail, CancellationToken cancellationToken)
    {
        if (runId is not { } id)
        {
            return;
        }

        var clipped = detail.Length > 2000 ? detail[..2000] : detail;
        var updated = await db.TrainingRuns.Where(r => r.Id == id)
            .ExecuteUpdateAsync(set => set.SetProperty(r => r.RegistrationStatus, status).SetProperty(r => r.RegistrationDetail, clipped), cancellationToken);
        if (updated == 1)
        {
            LogAnswered(logger, id, status, clipped);
        }
    }

    [LoggerMessage(EventId = 7321, Level = LogLevel.Information, Message = "Training run {RunId}: registry answered {Status}: {Detail}")]
    private static partial void LogAnswered(ILogger logger, Guid runId, string status, string detail);
}
