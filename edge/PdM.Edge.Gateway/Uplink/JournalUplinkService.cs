using System.Diagnostics;
using MassTransit;
using PdM.Edge.Journal;
using PdM.Messaging;

namespace PdM.Edge.Gateway.Uplink;

/// <summary>
/// Drains the journal to the bus. Leases a batch (live entries first, backlog replayed at the journal's rate),
/// publishes each entry with its stable message id (RabbitMQ publisher confirms: a publish completes when the broker
/// has it), and acknowledges exactly the confirmed entries; the rest are released and retried with the same id, so a
/// consumer's inbox recognises any duplicate. Replayed entries carry <c>pdm-replay</c> and their original time.
/// <para>
/// Every publish is mandatory: the broker confirms a message it could not route to any queue (nobody ever bound one to
/// its type's exchange) and discards it, unless asked to return it. A returned entry is therefore not delivered: it
/// stays in the journal, is counted (<c>pdm.uplink.unroutable</c>, by message type), logged, and retried after a
/// per-type wait (<see cref="UnroutableBackoff"/>), until a queue appears or its class's TTL ends it. An entry that can
/// never be sent (unreadable, or not serializable) is moved to <see cref="UplinkDeadLetters"/> instead of retried.
/// </para>
/// <para>
/// With a bandwidth ceiling (<see cref="UplinkOptions"/>), each lease holds only what the ceiling's bucket allows, in the
/// journal's budgeted order (live before backlog, feature batches behind everything else), and every publish is charged
/// its serialized size as MassTransit sent it. What does not fit waits in the journal, unleased; the loop waits for the
/// bucket, or for an append (a live alert may fit in what the bucket already holds).
/// </para>
/// </summary>
public sealed partial class JournalUplinkService(EdgeJournal journal, EventJournal appends, IBus bus, GatewayTelemetry telemetry, TimeProvider clock,
    UplinkCeiling ceiling, StalledPublishWatchdog watchdog, UplinkDeadLetters deadLetters, ILogger<JournalUplinkService> logger) : BackgroundService
{
    public const string ReplayHeader = "pdm-replay";
    public const string OriginalTimeHeader = "pdm-original-time";
    private const int LeaseSize = 100;

    // This publisher's name for the watchdog (log and pdm.bus.restarts tag).
    private const string WatchdogName = "uplink";

    // MassTransit holds a publish while its connection is down instead of failing it, so without a bound the loop would
    // wait out an outage inside one batch and never report the uplink down: the backlog would not be marked as replay,
    // nor paced behind live entries. A batch not confirmed within this is treated as failed (released, same ids).
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);

    // The least a wait for the ceiling lasts, even when an append ends it early: under steady ingest every append would
    // otherwise cost a lease that finds nothing fitting.
    private static readonly TimeSpan MinThrottledWait = TimeSpan.FromMilliseconds(10);

    // MassTransit does not always honour that cancellation: with a RabbitMQ cluster node killed under it, a publish it
    // retries internally on the new connection has been seen never to complete, and the loop waited on it forever
    // (entries journaled after it were never sent). The loop waits this long at most, then treats the rest as failed.
    private static readonly TimeSpan PublishAbandonAfter = PublishTimeout + TimeSpan.FromSeconds(5);

    // Stopping does not cancel a batch already handed to MassTransit at once: its publishes get this long to be confirmed
    // and acknowledged in the journal. Cancelled under way, each one was logged by MassTransit as a fault (a stack trace
    // per entry at every Ctrl-C) and sent again at the next start although the broker had it.
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    // How long an entry of a type this build does not know waits before it is offered again (a newer build may be back).
    private static readonly TimeSpan UnknownTypeRetry = TimeSpan.FromHours(1);

    private readonly UnroutableBackoff _unroutable = new();

    private readonly Dictionary<string, List<long>> _byType = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        watchdog.Register(WatchdogName);
        var backoff = TimeSpan.FromMilliseconds(200);
        var sending = new List<JournalEntry>(LeaseSize);
        var confirmed = new List<long>(LeaseSize);
        var returned = new List<JournalEntry>();
        var failed = new List<long>();
        var unknown = new List<long>();
        var notKept = new List<long>();
        using var stopping = new CancellationTokenSource(Timeout.InfiniteTimeSpan, clock);
        using var stopRequested = stoppingToken.Register(static state => ((CancellationTokenSource)state!).CancelAfter(StopGrace), stopping);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                IReadOnlyList<JournalEntry>? batch;
                try
                {
                    batch = await LeaseAsync(stoppingToken);
                }
                catch (JournalStorageException exception)
                {
                    backoff = await JournalUnavailable(exception, backoff, stoppingToken);
                    continue;
                }

                if (batch is null)
                {
                    continue;
                }

                HoldWaiting(batch, sending);
                confirmed.Clear();
                returned.Clear();
                failed.Clear();
                unknown.Clear();
                notKept.Clear();
                var publishes = new Task[sending.Count];

                // The serialized size of each publish, by its index in the batch (0 when nothing was serialized). One
                // array per batch: a publish abandoned past its deadline may still finish later, into its own batch's.
                var sizes = new long[sending.Count];
                var sentAt = clock.GetUtcNow();
                using var timeout = new CancellationTokenSource(PublishTimeout, clock);
                using var publishing = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token, timeout.Token);
                for (var i = 0; i < sending.Count; i++)
                {
                    publishes[i] = sending[i].TraceParent is null ? Publish(sending[i], sizes, i, publishing.Token) : PublishTraced(sending[i], sizes, i, publishing.Token);
                }

                string? error = null, unknownType = null;
                var abandonAt = clock.GetUtcNow() + PublishAbandonAfter;
                for (var i = 0; i < sending.Count; i++)
                {
                    try
                    {
                        await WithinDeadline(publishes[i], abandonAt, stopping.Token);
                        Sent(sending[i], sizes[i]);
                        confirmed.Add(sending[i].Id);
                        if (_unroutable.Delivered(sending[i].MessageType))
                        {
                            LogRoutable(logger, sending[i].MessageType);
                        }
                    }
                    catch (MessageReturnedException) when (!stopping.IsCancellationRequested)
                    {
                        // Not delivered, but it crossed the link to the broker and back.
                        Sent(sending[i], sizes[i]);
                        returned.Add(sending[i]);
                    }
                    catch (UnknownMessageTypeException exception)
                    {
                        // Journaled by a newer gateway build (this one was rolled back): kept for that build, not a link failure.
                        unknown.Add(sending[i].Id);
                        unknownType ??= exception.Message;
                    }
                    catch (Exception exception) when (UplinkDeadLetters.IsPermanent(exception))
                    {
                        // The entry's own fault: kept aside and acknowledged below, not retried (nor the uplink reported down).
                        // Not written aside (the disk's fault): it waits in the journal for a later try, and the link,
                        // which is fine, is neither reported down nor restarted, nor does it back off for it.
                        (await deadLetters.TryKeepAsync(sending[i], exception, stopping.Token) ? confirmed : notKept).Add(sending[i].Id);
                    }
                    catch (Exception exception) when (!stopping.IsCancellationRequested)
                    {
                        failed.Add(sending[i].Id);
                        error ??= exception.Message;
                    }
                }

                // Acknowledge what the broker confirmed before reporting the link down: an acknowledgement reports it up.
                try
                {
                    await journal.AcknowledgeAsync(confirmed, stopping.Token);
                }
                catch (JournalStorageException exception)
                {
                    // The batch's leases run out and it is sent again with the same ids: duplicates the inboxes recognise.
                    backoff = await JournalUnavailable(exception, backoff, stoppingToken);
                    continue;
                }

                KeepReturned(returned);
                if (unknown.Count > 0)
                {
                    journal.Defer(unknown, UnknownTypeRetry);
                    LogUnknownTypes(logger, unknown.Count, unknownType, UnknownTypeRetry.TotalMinutes);
                }

                if (notKept.Count > 0)
                {
                    journal.Defer(notKept, UplinkDeadLetters.NotKeptRetry);
                }

                if (failed.Count == 0)
                {
                    watchdog.Delivered(WatchdogName);
                    backoff = TimeSpan.FromMilliseconds(200);
                    continue;
                }

                journal.UplinkDown();
                journal.Release(failed);
                LogUplinkDown(logger, failed.Count, backoff.TotalSeconds, error);
                if (await watchdog.FailedAsync(WatchdogName, sentAt, stoppingToken))
                {
                    // New channels: try them at once.
                    backoff = TimeSpan.FromMilliseconds(200);
                    continue;
                }

                await Task.Delay(backoff, clock, stoppingToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(15).Ticks));
            }
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping, and the grace ran out (a cancellation, or a publish's failure past it): what was not
            // acknowledged stays in the journal for the next start, whatever ended it.
        }
    }

    /// <summary>
    /// The journal cannot be written (a full disk, an I/O error, its database locked by another process): a lease or an
    /// acknowledgement failed and nothing of it was stored. Not the link's fault and not fatal: stopping the gateway
    /// for it would stop ingest too, while the pipeline's own appends wait for the journal with backoff. Logged, then
    /// retried after <paramref name="backoff"/>; returns the next wait.
    /// </summary>
    private async Task<TimeSpan> JournalUnavailable(JournalStorageException exception, TimeSpan backoff, CancellationToken stoppingToken)
    {
        LogJournalUnavailable(logger, backoff.TotalSeconds, exception.Message);
        await Task.Delay(backoff, clock, stoppingToken);
        return TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(15).Ticks));
    }

    /// <summary>
    /// The next batch to publish, or null after a wait: for an append when nothing is sendable (or a second, for released
    /// or expired leases: an idle gateway must not spend its CPU asking SQLite for nothing), or for the ceiling's bucket.
    /// </summary>
    private async Task<IReadOnlyList<JournalEntry>?> LeaseAsync(CancellationToken cancellationToken)
    {
        if (!ceiling.IsLimited)
        {
            var batch = await journal.LeaseNextAsync(LeaseSize, cancellationToken);
            if (batch.Count > 0)
            {
                return batch;
            }

            await appends.WaitForAppendAsync(TimeSpan.FromSeconds(1), cancellationToken);
            return null;
        }

        var lease = await journal.LeaseWithinAsync(LeaseSize, ceiling.Budget(), cancellationToken);
        if (lease.Entries.Count > 0)
        {
            return lease.Entries;
        }

        if (lease.Waiting is not { } waiting)
        {
            await appends.WaitForAppendAsync(TimeSpan.FromSeconds(1), cancellationToken);
            return null;
        }

        // The ceiling holds the next entry back: wait until the bucket has its bytes, or for an append (a live alert
        // may fit in what the bucket holds already, ahead of the entry waiting).
        var started = clock.GetTimestamp();
        await appends.WaitForAppendAsync(ceiling.TimeUntil(lease.WaitingBytes) + TimeSpan.FromMilliseconds(1), cancellationToken);
        var waited = clock.GetElapsedTime(started);
        if (waited < MinThrottledWait)
        {
            await Task.Delay(MinThrottledWait - waited, clock, cancellationToken);
        }

        telemetry.UplinkWaited(waiting, clock.GetElapsedTime(started));
        return null;
    }

    /// <summary>A publish reached the broker: its bytes are counted and charged to the ceiling.</summary>
    private void Sent(JournalEntry entry, long bytes)
    {
        telemetry.UplinkSent(entry.Class, entry.IsReplay, bytes);
        ceiling.Sent(bytes, entry.Payload.Length);
    }

    /// <summary>
    /// Waits for <paramref name="publish"/> until <paramref name="abandonAt"/>; past it, the publish is abandoned (its entry
    /// is released and sent again with the same message id, so a late confirm of the first attempt is a duplicate the
    /// consumers' inboxes recognise) and its eventual fault observed, never left unobserved.
    /// </summary>
    private async Task WithinDeadline(Task publish, DateTimeOffset abandonAt, CancellationToken stoppingToken)
    {
        var remaining = abandonAt - clock.GetUtcNow();
        try
        {
            await publish.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, clock, stoppingToken);
        }
        catch (TimeoutException)
        {
            _ = publish.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw new TimeoutException($"the broker did not confirm within {PublishAbandonAfter.TotalSeconds:0} s (publish abandoned, retried with the same id)");
        }
    }

    /// <summary>
    /// Puts into <paramref name="sending"/> the entries of <paramref name="batch"/> to publish now; those of a type still
    /// waiting after a return go back to the journal, unpublished, until its wait ends.
    /// </summary>
    private void HoldWaiting(IReadOnlyList<JournalEntry> batch, List<JournalEntry> sending)
    {
        sending.Clear();
        var now = clock.GetUtcNow();
        foreach (var entry in batch)
        {
            if (_unroutable.IsWaiting(entry.MessageType, now, out var remaining))
            {
                journal.Defer([entry.Id], remaining);
            }
            else
            {
                sending.Add(entry);
            }
        }
    }

    /// <summary>Returned entries stay in the journal, counted and logged per type, and wait before their next attempt.</summary>
    private void KeepReturned(List<JournalEntry> returned)
    {
        if (returned.Count == 0)
        {
            return;
        }

        foreach (var ids in _byType.Values)
        {
            ids.Clear();
        }

        foreach (var entry in returned)
        {
            if (!_byType.TryGetValue(entry.MessageType, out var ids))
            {
                _byType[entry.MessageType] = ids = [];
            }

            ids.Add(entry.Id);
        }

        var now = clock.GetUtcNow();
        foreach (var (messageType, ids) in _byType)
        {
            if (ids.Count == 0)
            {
                continue;
            }

            var delay = _unroutable.Returned(messageType, now);
            journal.Defer(ids, delay);
            telemetry.UplinkUnroutable.Add(ids.Count, new KeyValuePair<string, object?>("message_type", messageType));
            LogUnroutable(logger, ids.Count, messageType, delay.TotalSeconds);
        }
    }

    /// <summary>Publishes <paramref name="entry"/>, number <paramref name="index"/> of its batch, and leaves its serialized size in <paramref name="sizes"/>.</summary>
    private async Task Publish(JournalEntry entry, long[] sizes, int index, CancellationToken cancellationToken)
    {
        var message = UplinkMessages.FromJournal(entry);
        if (message is null)
        {
            throw new UnknownMessageTypeException(entry.MessageType);
        }

        PublishContext? sent = null;
        try
        {
            await bus.Publish(message, context =>
            {
                sent = context;
                PrepareContext(context, entry);
            }, cancellationToken);
        }
        finally
        {
            // The body MassTransit serialized for RabbitMQ (the envelope around the message): what crosses the link.
            sizes[index] = sent?.BodyLength ?? 0;
        }
    }

    private static void PrepareContext(PublishContext context, JournalEntry entry)
    {
        context.MessageId = entry.MessageId;

        // Returned by the broker (MessageReturnedException) when no queue receives it, instead of confirmed and dropped.
        context.Mandatory = true;
        if (entry.IsReplay)
        {
            context.Headers.Set(ReplayHeader, "true");
            context.Headers.Set(OriginalTimeHeader, entry.OriginalTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Publishes inside the entry's span, current while MassTransit sends: its send span and the traceparent header the consumers continue belong to it.</summary>
    private async Task PublishTraced(JournalEntry entry, long[] sizes, int index, CancellationToken cancellationToken)
    {
        using var activity = StartPublishSpan(entry);
        try
        {
            await Publish(entry, sizes, index, cancellationToken);
        }
        catch (Exception exception) when (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            throw;
        }
    }

    /// <summary>
    /// The publish of a journaled event: a child of its decision when sent live at the first attempt; when sent again
    /// after a failed attempt (an outage) or as backlog, a new trace linked to the decision (the decision's trace ended
    /// long ago, and a late delivery is its own piece of work).
    /// Null for an entry journaled without a trace context, or when nothing samples it.
    /// </summary>
    internal static Activity? StartPublishSpan(JournalEntry entry)
    {
        if (entry.TraceParent is null || !GatewayTelemetry.ActivitySource.HasListeners()
            || !ActivityContext.TryParse(entry.TraceParent, entry.TraceState, isRemote: false, out var decision))
        {
            return null;
        }

        var activity = entry.IsReplay || entry.Attempts > 1
            ? GatewayTelemetry.ActivitySource.StartActivity("uplink publish", ActivityKind.Producer, parentContext: default, links: [new ActivityLink(decision)])
            : GatewayTelemetry.ActivitySource.StartActivity("uplink publish", ActivityKind.Producer, decision);
        if (activity is { IsAllDataRequested: true })
        {
            activity.DisplayName = "uplink publish " + entry.MessageType;
            activity.SetTag("pdm.journal.sequence", entry.Id);
            activity.SetTag("pdm.journal.replay", entry.IsReplay);
            activity.SetTag("pdm.journal.attempts", entry.Attempts);
            activity.SetTag("messaging.message.id", entry.MessageId.ToString());
        }

        return activity;
    }

    [LoggerMessage(EventId = 1502, Level = LogLevel.Warning, Message = "Uplink: RabbitMQ returned {Count} {MessageType} event(s) as unroutable (no queue is bound to its exchange: is its consumer running?); kept in the journal, retrying in {DelaySeconds:0.0} s")]
    private static partial void LogUnroutable(ILogger logger, int count, string messageType, double delaySeconds);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Information, Message = "Uplink: {MessageType} events are routed again")]
    private static partial void LogRoutable(ILogger logger, string messageType);

    [LoggerMessage(EventId = 1505, Level = LogLevel.Warning,
        Message = "Uplink: {Count} journal entries of a type this gateway build does not send ({Reason}: journaled by a newer build?); kept in the journal, offered again in {Minutes:0} min")]
    private static partial void LogUnknownTypes(ILogger logger, int count, string? reason, double minutes);

    /// <summary>A journal entry of a message type this build does not know how to send.</summary>
    private sealed class UnknownMessageTypeException(string messageType) : Exception($"unknown message type {messageType}");

    [LoggerMessage(EventId = 1507, Level = LogLevel.Error, Message = "Uplink: the journal cannot be written, retrying in {DelaySeconds:0.0} s: {Reason}")]
    private static partial void LogJournalUnavailable(ILogger logger, double delaySeconds, string reason);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "Uplink down: {Count} event(s) kept in the journal, retrying in {DelaySeconds:0.0} s: {Reason}")]
    private static partial void LogUplinkDown(ILogger logger, int count, double delaySeconds, string? reason);
}
