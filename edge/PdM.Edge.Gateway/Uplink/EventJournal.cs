using System.Diagnostics;
using PdM.Edge.Journal;

namespace PdM.Edge.Gateway.Uplink;

/// <summary>
/// Where the gateway's events go first: the durable journal. An append returns once the entry is fsynced; from then
/// on the event survives a crash, a reboot or a cloud outage and is sent by <see cref="JournalUplinkService"/>.
/// Every event passes the site's data-egress policy here, before it is stored: a class the policy forbids is counted
/// and never journaled (so never sent), and the fields it names are hashed or emptied in what is journaled.
/// </summary>
public sealed partial class EventJournal(EdgeJournal journal, Egress.EgressPolicy egress, GatewayTelemetry telemetry, TimeProvider clock, ILogger<EventJournal> logger) : IDisposable
{
    private readonly SemaphoreSlim _appended = new(0, 1);

    /// <summary>
    /// Completes when something was appended since the last call, or after <paramref name="timeout"/> (released or
    /// timed-out leases need no append to become sendable again). Lets the uplink sleep instead of polling SQLite.
    /// </summary>
    public Task<bool> WaitForAppendAsync(TimeSpan timeout, CancellationToken cancellationToken) => _appended.WaitAsync(timeout, cancellationToken);

    /// <summary>
    /// Test seam: called with each event before it is serialized and shaped for the journal. A test makes it throw for
    /// one event, as a serialization or egress-shaping bug would, to show that the pipeline poisons the message that
    /// caused it only; null in production. (A <see cref="JournalStorageException"/> is not such a fault: it is retried below.)
    /// </summary>
    internal Action<object>? BeforeAppend { get; set; }

    /// <summary>
    /// Appends until committed; a full disk stalls the caller with backoff (backpressure, not loss). With a
    /// <paramref name="trace"/> (the decision's span), the append is its child span and the entry keeps the context,
    /// so the uplink's publish still belongs to the decision however late it is sent.
    /// </summary>
    public async Task AppendAsync<T>(T message, Guid messageId, DateTimeOffset originalTime, CancellationToken cancellationToken, ActivityContext trace = default)
        where T : class
    {
        BeforeAppend?.Invoke(message);
        var append = UplinkMessages.ToJournal(message, messageId, originalTime);
        var egressClass = UplinkMessages.EgressClassOf(append.MessageType);
        if (!egress.Allows(egressClass))
        {
            telemetry.EgressBlocked(egressClass);
            return;
        }

        append = egress.Shape(append);
        using var activity = trace == default ? null : GatewayTelemetry.ActivitySource.StartActivity("journal append", ActivityKind.Internal, trace);
        if (trace != default)
        {
            append = append with { TraceParent = Pipeline.DecisionTracing.TraceParent(trace), TraceState = trace.TraceState };
        }

        activity?.SetTag("pdm.journal.message_type", append.MessageType);
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                var result = await journal.AppendAsync(append, cancellationToken);
                activity?.SetTag("pdm.journal.sequence", result.Id);
                activity?.SetTag("pdm.journal.status", result.Status.ToString());
                if (_appended.CurrentCount == 0)
                {
                    try
                    {
                        _appended.Release();
                    }
                    catch (SemaphoreFullException)
                    {
                        // Another append signalled first: one wake-up is enough.
                    }
                }
                if (!result.IsStored)
                {
                    // Only lower classes are ever refused (quota), and the journal counts it per class.
                    LogRefused(logger, append.MessageType, result.Reason);
                }

                return;
            }
            catch (JournalStorageException exception)
            {
                LogStorageFailed(logger, append.MessageType, delay.TotalSeconds, exception.Message);
                await Task.Delay(delay, clock, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    public void Dispose() => _appended.Dispose();

    [LoggerMessage(EventId = 1401, Level = LogLevel.Warning, Message = "Journal refused {MessageType}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string messageType, string? reason);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Error, Message = "Journal cannot store {MessageType}, retrying in {DelaySeconds:0.0} s: {Reason}")]
    private static partial void LogStorageFailed(ILogger logger, string messageType, double delaySeconds, string reason);
}
