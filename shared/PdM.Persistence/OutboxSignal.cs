using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;

namespace PdM.Persistence;

/// <summary>Wakes a module's dispatcher after a commit, so a row goes out at once rather than at the next poll.</summary>
public sealed class OutboxSignal<TContext>
    where TContext : DbContext
{
    // One slot: several wake-ups before the dispatcher looks are one look.
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Call after the commit that added rows.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Returns when woken or after <paramref name="timeout"/> (measured by <paramref name="clock"/>), whichever is first.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider clock, CancellationToken cancellationToken)
    {
        using var poll = new CancellationTokenSource(timeout, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, poll.Token);
        try
        {
            await _wake.Reader.ReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The poll interval passed without a wake-up: look anyway (rows due for a retry, rows another replica wrote).
        }
    }
}

/// <summary>
/// Delivers outbox rows of one <see cref="OutboxMessage.MessageType"/> somewhere other than the bus (Maintenance: a
/// CMMS), with the module's own policy (breakers, parking, superseding) on top of the shared ordering, lease and retry.
/// </summary>
public interface IOutboxHandler<TContext>
    where TContext : DbContext
{
    string MessageType { get; }

    /// <summary>
    /// Delivers <paramref name="row"/>, the oldest pending row of its stream, and records the outcome on it (and on rows
    /// it supersedes) with <see cref="OutboxMessage.MarkDelivered"/>, <see cref="OutboxMessage.MarkSuperseded"/>,
    /// <see cref="OutboxMessage.Park"/> or <see cref="OutboxMessage.RetryAt"/>, saved with whatever must commit with it.
    /// Returns false when the stream must wait (a retry, or held back). An exception counts as a failed attempt.
    /// </summary>
    Task<bool> DeliverAsync(TContext db, OutboxMessage row, CancellationToken cancellationToken);
}
