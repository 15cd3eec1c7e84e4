using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PdM.Contracts.Models;
using PdM.Edge.Gateway.Uplink;
using PdM.Edge.Inference;

namespace PdM.Edge.Gateway.Models;

/// <summary>
/// Carries the inference library's lifecycle events (automatic rollback, drift, shadow statistics) into the journal, and
/// from there to the bus. The library raises them synchronously from its scoring path, so they are queued here and
/// appended by a background loop, never on the caller's thread. (The model store's record of a rollback is the
/// library's own business: <see cref="ModelStoreState"/>.)
/// </summary>
public sealed class JournalInferenceEventSink(EventJournal journal, IOptions<GatewayOptions> gateway) : BackgroundService, IInferenceEventSink
{
    private readonly Channel<(object Message, Guid Id, DateTimeOffset At)> _queue =
        Channel.CreateUnbounded<(object, Guid, DateTimeOffset)>(new UnboundedChannelOptions { SingleReader = true });

    public void ModelRolledBack(ModelRolledBack rolledBack)
    {
        ArgumentNullException.ThrowIfNull(rolledBack);
        _queue.Writer.TryWrite((rolledBack, rolledBack.EventId, rolledBack.OccurredAt));
    }

    public void ModelDriftDetected(ModelDriftDetected drift)
    {
        ArgumentNullException.ThrowIfNull(drift);
        _queue.Writer.TryWrite((drift with { SiteId = gateway.Value.SiteId }, drift.EventId, drift.OccurredAt));
    }

    public void ShadowEvaluationReported(ShadowEvaluationReported report)
    {
        ArgumentNullException.ThrowIfNull(report);

        // The registry weighs shadow evidence per site (the inference library does not know the site).
        _queue.Writer.TryWrite((report with { SiteId = gateway.Value.SiteId }, report.EventId, report.OccurredAt));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (message, id, at) in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await journal.AppendAsync(message, id, at, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
