using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Messaging;

namespace PdM.Persistence;

/// <summary>
/// Delivers a module's outbox: one dispatcher per module (its <typeparamref name="TContext"/>), run by whichever
/// replica holds the module's lease (<see cref="OutboxLeaseHolder"/>), so several replicas never deliver side by side
/// and a dead one is replaced once its lease expires. Rows of a stream go out in id order; a failed row is retried
/// with backoff under the same message id and holds back only its stream. Bus rows are published with publisher
/// confirms within <see cref="OutboxOptions.PublishTimeout"/>; other types go to the module's <see cref="IOutboxHandler{TContext}"/>.
/// </summary>
public sealed partial class OutboxDispatcher<TContext> : BackgroundService
    where TContext : DbContext
{
    private readonly IServiceScopeFactory _scopes;
    private readonly OutboxSignal<TContext> _signal;
    private readonly OutboxRoutes _routes;
    private readonly OutboxOptions _options;
    private readonly OutboxTelemetry _telemetry;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly OutboxLeaseHolder _lease;
    private readonly KeyValuePair<string, object?> _outboxTag;
    private readonly string _watchdogName;
    private readonly StalledPublishWatchdog? _watchdog;
    private DateTimeOffset _nextCleanup;

    public OutboxDispatcher(
        string name,
        IServiceScopeFactory scopes,
        OutboxSignal<TContext> signal,
        OutboxRoutes routes,
        IOptionsMonitor<OutboxOptions> options,
        OutboxTelemetry telemetry,
        TimeProvider clock,
        StalledPublishWatchdog? watchdog,
        ILogger<OutboxDispatcher<TContext>> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        Name = name;
        _scopes = scopes;
        _signal = signal;
        _routes = routes;
        _options = options.Get(name);
        _telemetry = telemetry;
        _clock = clock;
        _logger = logger;
        _outboxTag = new KeyValuePair<string, object?>("outbox", name);
        _watchdogName = "outbox:" + name;
        _watchdog = watchdog;
        _watchdog?.Register(_watchdogName);
        _lease = new OutboxLeaseHolder($"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}", _options.LeaseDuration, clock);
    }

    /// <summary>The module's outbox name (its schema): the options name and the metrics' <c>outbox</c> tag.</summary>
    public string Name { get; }

    /// <summary>This replica's lease holder id (host/pid/random), as stored in <c>outbox_lease</c>.</summary>
    public string Holder => _lease.Holder;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                bool more;
                try
                {
                    more = await DispatchOnceAsync(stoppingToken);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    // Database away, or anything else broke the round: the rows wait in the table for the next one.
                    LogRoundFailed(_logger, Name, exception);
                    more = false;
                }

                if (!more)
                {
                    await _signal.WaitAsync(_options.PollInterval, _clock, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await ReleaseLeaseAsync();
        }
    }

    /// <summary>One round; true when it found a full batch and moved something (more may be waiting right away).</summary>
    public async Task<bool> DispatchOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (!await _lease.AcquireAsync(db, cancellationToken))
            {
                _telemetry.ForgetDepth(Name);
                return false;
            }

            var outbox = db.Set<OutboxMessage>();
            var now = _clock.GetUtcNow();
            // One aggregate over the pending rows (the partial index on pending rows covers the filter), for the
            // depth and oldest-age gauges the operations alerts watch. One group or none, so Single: FirstOrDefault
            // without an OrderBy made EF Core warn "unpredictable results" once per module at every start.
            var depth = await outbox
                .Where(m => m.Status == OutboxStatus.Pending)
                .GroupBy(_ => 1)
                .Select(g => new { Pending = g.LongCount(), Oldest = g.Min(m => (DateTimeOffset?)m.CreatedAt) })
                .SingleOrDefaultAsync(cancellationToken);
            _telemetry.Depth(Name, depth?.Pending ?? 0, depth?.Oldest);
            // Due rows whose stream has nothing older still waiting: a stream held back by a retry does not fill
            // the batch and starve the others.
            var rows = await outbox
                .Where(m => m.Status == OutboxStatus.Pending && m.NextAttemptAt <= now)
                .Where(m => !outbox.Any(e => e.Stream == m.Stream && e.Status == OutboxStatus.Pending && e.Id < m.Id && e.NextAttemptAt > now))
                .OrderBy(m => m.Id)
                .Take(_options.BatchSize)
                .ToListAsync(cancellationToken);
            var handlers = scope.ServiceProvider.GetServices<IOutboxHandler<TContext>>().ToDictionary(h => h.MessageType, StringComparer.Ordinal);
            var bus = scope.ServiceProvider.GetRequiredService<IBus>();
            var waiting = new HashSet<string>(StringComparer.Ordinal);
            var moved = 0;
            foreach (var row in rows)
            {
                // Stopping: between rows, never inside one (see DeliverAsync).
                if (cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                // A handler may have settled this row already (superseded by a newer one of its stream).
                if (row.Status != OutboxStatus.Pending || waiting.Contains(row.Stream))
                {
                    continue;
                }

                // In order or not at all: a later row of the stream must not overtake one waiting for its retry.
                if (row.NextAttemptAt > now)
                {
                    waiting.Add(row.Stream);
                    continue;
                }

                if (!await _lease.KeepAsync(db, cancellationToken))
                {
                    LogLeaseLost(_logger, Name, _lease.Holder);
                    break;
                }

                if (await DeliverAsync(db, bus, handlers, row))
                {
                    moved++;
                }
                else
                {
                    waiting.Add(row.Stream);
                }
            }

            await CleanUpAsync(outbox, now, cancellationToken);
            return rows.Count == _options.BatchSize && moved > 0;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// Delivers one row and records the outcome. Not cancelled by a stop: a publish abandoned after it reached the
    /// broker, or a delivery not recorded, would be sent again by the next lease holder. Each step is bounded on its own
    /// (<see cref="OutboxOptions.PublishTimeout"/>, a handler's request timeout), well within the host's stop timeout.
    /// </summary>
    private async Task<bool> DeliverAsync(TContext db, IBus bus, Dictionary<string, IOutboxHandler<TContext>> handlers, OutboxMessage row)
    {
        var cancellationToken = CancellationToken.None;
        DateTimeOffset? publishedAt = null;
        var type = new KeyValuePair<string, object?>("type", row.MessageType);
        using var activity = StartDeliverySpan(row);
        bool goOn;
        try
        {
            if (handlers.TryGetValue(row.MessageType, out var handler))
            {
                goOn = await handler.DeliverAsync(db, row, cancellationToken);
            }
            else if (_routes.TryPublish(row.MessageType, out var publish))
            {
                using var deadline = new CancellationTokenSource(_options.PublishTimeout, _clock);
                publishedAt = _clock.GetUtcNow();
                await publish(bus, row.PayloadJson, row.MessageId, deadline.Token);
                _watchdog?.Delivered(_watchdogName);
                row.MarkDelivered(_clock.GetUtcNow());
                goOn = true;
            }
            else
            {
                // Retrying cannot make a route appear: park it (visible in the table, counted, logged) and let the stream go on.
                row.Park($"no route or handler for message type '{row.MessageType}'");
                goOn = true;
            }
        }
        catch (JsonException exception)
        {
            row.Park($"unreadable payload: {exception.Message}");
            goOn = true;
        }
        catch (Exception exception)
        {
            row.Attempts++;
            var reason = exception is OperationCanceledException
                ? $"not confirmed by the broker within {_options.PublishTimeout}"
                : $"{exception.GetType().Name}: {exception.Message}";
            row.RetryAt(_clock.GetUtcNow() + OutboxOptions.Backoff(row.Attempts, _options.BackoffBase, _options.MaxBackoff), reason);
            _telemetry.Failures.Add(1, _outboxTag, type);
            LogDeliveryFailed(_logger, Name, row.MessageType, row.Id, row.Attempts, row.NextAttemptAt, row.LastError!);
            goOn = false;
            if (publishedAt is { } sentAt && _watchdog is not null)
            {
                // Bounded on its own (a stop and a start); a restart's new channels serve the row's next attempt.
                await _watchdog.FailedAsync(_watchdogName, sentAt, cancellationToken);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        activity?.SetTag("pdm.outbox.status", row.Status.ToString());
        activity?.SetTag("pdm.outbox.attempts", row.Attempts);
        if (row.Status == OutboxStatus.Pending)
        {
            activity?.SetStatus(ActivityStatusCode.Error, row.LastError);
        }

        switch (row.Status)
        {
            case OutboxStatus.Delivered:
                _telemetry.Delivered.Add(1, _outboxTag, type);
                break;
            case OutboxStatus.Parked:
                _telemetry.Parked.Add(1, _outboxTag, type);
                LogParked(_logger, Name, row.MessageType, row.Id, row.LastError ?? string.Empty);
                break;
        }

        return goOn;
    }

    /// <summary>
    /// The delivery of one row, continuing the trace the row was written in (a CMMS call or a bus publish made inside it
    /// is its child); a row written untraced starts its own trace, subject to sampling.
    /// </summary>
    private Activity? StartDeliverySpan(OutboxMessage row)
    {
        if (!OutboxTelemetry.ActivitySource.HasListeners())
        {
            return null;
        }

        var parent = row.TraceParent is { } traceParent && ActivityContext.TryParse(traceParent, row.TraceState, isRemote: false, out var written) ? written : default;
        var activity = OutboxTelemetry.ActivitySource.StartActivity("outbox deliver", ActivityKind.Internal, parent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.DisplayName = "outbox deliver " + row.MessageType;
            activity.SetTag("pdm.outbox.name", Name);
            activity.SetTag("pdm.outbox.row", row.Id);
            activity.SetTag("pdm.outbox.stream", row.Stream);
            activity.SetTag("messaging.message.id", row.MessageId.ToString());
        }

        return activity;
    }

    private async Task CleanUpAsync(DbSet<OutboxMessage> outbox, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_options.Retention is not { } retention || now < _nextCleanup)
        {
            return;
        }

        var cutoff = now - retention;
        await outbox.Where(m => m.DeliveredAt != null && m.DeliveredAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        _nextCleanup = now + TimeSpan.FromMinutes(10);
    }

    private async Task ReleaseLeaseAsync()
    {
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _lease.ReleaseAsync(scope.ServiceProvider.GetRequiredService<TContext>(), timeout.Token);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Stopping anyway: the lease then simply expires.
            LogReleaseFailed(_logger, Name, exception);
        }
    }

    [LoggerMessage(EventId = 9201, Level = LogLevel.Warning, Message = "Outbox {Outbox}: delivering {MessageType} (row {RowId}) failed on attempt {Attempt}; next attempt at {NextAttemptAt:O}: {Error}")]
    private static partial void LogDeliveryFailed(ILogger logger, string outbox, string messageType, long rowId, int attempt, DateTimeOffset nextAttemptAt, string error);

    [LoggerMessage(EventId = 9202, Level = LogLevel.Error, Message = "Outbox {Outbox}: {MessageType} (row {RowId}) parked, not retried: {Error}")]
    private static partial void LogParked(ILogger logger, string outbox, string messageType, long rowId, string error);

    [LoggerMessage(EventId = 9203, Level = LogLevel.Error, Message = "Outbox {Outbox}: round failed; the rows wait for the next round")]
    private static partial void LogRoundFailed(ILogger logger, string outbox, Exception exception);

    [LoggerMessage(EventId = 9204, Level = LogLevel.Warning, Message = "Outbox {Outbox}: lease of {Holder} lost to another replica mid-round; stopping this round")]
    private static partial void LogLeaseLost(ILogger logger, string outbox, string holder);

    [LoggerMessage(EventId = 9205, Level = LogLevel.Warning, Message = "Outbox {Outbox}: could not release the lease on stop; it expires on its own")]
    private static partial void LogReleaseFailed(ILogger logger, string outbox, Exception exception);
}
