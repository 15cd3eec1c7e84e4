using MassTransit;
using PdM.Contracts.Training;
using PdM.Telemetry.Training;

namespace PdM.Telemetry.Consumers;

/// <summary>The bus side of <c>TrainModel</c>: same scheduling as the HTTP endpoint; a refused command is logged and counted there.</summary>
public sealed class TrainModelConsumer(TrainingRunScheduler scheduler) : IConsumer<TrainModel>
{
    public async Task Consume(ConsumeContext<TrainModel> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await scheduler.ScheduleAsync(context.Message, context.CancellationToken);
    }
}
