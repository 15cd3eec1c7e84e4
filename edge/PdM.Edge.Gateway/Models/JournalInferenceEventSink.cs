using System.Threading.Channels;
using MassTransit;
using PdM.Contracts.Models;
using PdM.Edge.Inference;

namespace PdM.Edge.Gateway.Models;

/// <summary>
/// Carries the inference library's lifecycle events (automatic rollback, shadow statistics) to the bus. The library
/// raises them synchronously from its scoring path, so they are queued here and published by a background loop
/// with retry, never on the caller's thread.
/// </summary>
public sealed partial class BusInferenceEventSink(IBus bus, TimeProvider clock, ILogger<BusInferenceEventSink> logger) : BackgroundService, IInferenceEventSink
{
    private readonly Channel<(object Message, Guid Id)> _queue = Channel.CreateUnbounded<(object, Guid)>(new UnboundedChannelOptions { SingleReader = true });

    public void ModelRolledBack(ModelRolledBack rolledBack)
    {
        ArgumentNullException.ThrowIfNull(rolledBack);
        _queue.Writer.TryWrite((rolledBack, rolledBack.EventId));
    }

    public void ShadowEvaluationReported(ShadowEvaluationReported report)
    {
        ArgumentNullException.ThrowIfNull(report);
        _queue.Writer.TryWrite((report, report.EventId));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (message, id) in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                var delay = TimeSpan.FromMilliseconds(200);
                while (true)
                {
                    try
                    {
                        await bus.Publish(message, context => context.MessageId = id, stoppingToken);
                        break;
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException)
                    {
                        LogPublishFailed(logger, message.GetType().Name, exception.Message);
                        await Task.Delay(delay, clock, stoppingToken);
                        delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Publishing {MessageType} failed, retrying: {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, string messageType, string reason);
}
