using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Cmms;
using PdM.Maintenance.Persistence;
using PdM.Maintenance.Policy;
using PdM.Persistence;

namespace PdM.Maintenance.Outbox;

/// <summary>
/// Delivers the outbox: CMMS upserts through each site's adapter and events onto the bus. Retries transient failures with
/// exponential backoff and jitter, honours <c>Retry-After</c>, skips endpoints whose breaker is open, and parks what
/// retrying cannot fix (authentication, contract errors, exhausted retries) with a clear reason on the work order.
/// Only one dispatcher works at a time per database (a PostgreSQL advisory lock), so scaled-out hosts do not race.
/// For one work order only the newest snapshot is sent; older pending ones are superseded by it.
/// </summary>
public sealed partial class OutboxDispatcher(
    IServiceScopeFactory scopes,
    OutboxSignal signal,
    CircuitBreakers breakers,
    CmmsAdapterFactory adapters,
    SiteDirectory sites,
    IOptions<MaintenanceOptions> options,
    MaintenanceTelemetry telemetry,
    TimeProvider clock,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    /// <summary>Advisory-lock key: "pdm.maintenance.outbox".</summary>
    private const long LockKey = 0x7064_6D6F_7574_0001;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delivery = options.Value.Delivery;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var busy = await DispatchOnceAsync(stoppingToken);
                if (!busy)
                {
                    await signal.WaitAsync(delivery.PollInterval, clock, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Whatever broke this round (database down, a corrupt row), the loop must live to deliver the next one.
                LogDispatchFailed(logger, exception);
                await Task.Delay(delivery.PollInterval, clock, stoppingToken);
            }
        }
    }

    /// <summary>Delivers one batch of due rows; true when a full batch was found (there may be more right away).</summary>
    public async Task<bool> DispatchOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MaintenanceDbContext>();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var locked = await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_lock({LockKey}) AS \"Value\"").SingleAsync(cancellationToken);
            if (!locked)
            {
                return false;
            }

            try
            {
                return await DeliverBatchAsync(db, scope.ServiceProvider, cancellationToken);
            }
            finally
            {
                await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task<bool> DeliverBatchAsync(MaintenanceDbContext db, IServiceProvider services, CancellationToken cancellationToken)
    {
        var batchSize = options.Value.Delivery.BatchSize;
        var now = clock.GetUtcNow();
        var due = await db.Outbox
            .Where(m => m.Status == OutboxStatus.Pending && m.NextAttemptAt <= now)
            .OrderBy(m => m.Id)
            .Take(batchSize)
            .ToListAsync(cancellationToken);
        var seen = new HashSet<Guid>();
        var bus = services.GetRequiredService<IBus>();
        var attempted = 0;
        foreach (var row in due)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (row.Kind == OutboxKind.Bus)
            {
                await PublishAsync(db, bus, row, cancellationToken);
                attempted++;
            }
            else if (row.WorkOrderId is { } workOrderId && seen.Add(workOrderId) && await DeliverCmmsAsync(db, workOrderId, row, cancellationToken))
            {
                attempted++;
            }
        }

        // Rows held back by an open breaker do not count: a full batch of them must not spin the loop.
        return due.Count == batchSize && attempted > 0;
    }

    private async Task PublishAsync(MaintenanceDbContext db, IBus bus, OutboxMessage row, CancellationToken cancellationToken)
    {
        var messageId = OutboxPublishing.MessageId("pdm.maintenance.outbox", row.Id);
        try
        {
            Task publish = row.Destination switch
            {
                nameof(WorkOrderRaised) => OutboxPublishing.Publish(bus, row.PayloadJson, MaintenanceJsonContext.Default.WorkOrderRaised, messageId, cancellationToken),
                nameof(MaintenanceCaseEscalated) => OutboxPublishing.Publish(bus, row.PayloadJson, MaintenanceJsonContext.Default.MaintenanceCaseEscalated, messageId, cancellationToken),
                nameof(MaintenanceOutcomeRecorded) => OutboxPublishing.Publish(bus, row.PayloadJson, MaintenanceJsonContext.Default.MaintenanceOutcomeRecorded, messageId, cancellationToken),
                _ => throw new InvalidOperationException($"outbox row {row.Id} names unknown message type '{row.Destination}'"),
            };
            await publish;
            row.Status = OutboxStatus.Delivered;
            row.DeliveredAt = clock.GetUtcNow();
            telemetry.EventsPublished.Add(1, new KeyValuePair<string, object?>("type", row.Destination));
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            row.Attempts++;
            row.LastError = HttpResponses.Clip($"{exception.GetType().Name}: {exception.Message}", 2000);
            row.NextAttemptAt = clock.GetUtcNow() + Backoff(row.Attempts);
            LogPublishFailed(logger, row.Destination, row.Id, row.Attempts, exception);
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task<bool> DeliverCmmsAsync(MaintenanceDbContext db, Guid workOrderId, OutboxMessage first, CancellationToken cancellationToken)
    {
        var endpoint = first.Destination;
        var workOrder = await db.WorkOrders.SingleOrDefaultAsync(w => w.Id == workOrderId, cancellationToken);
        var pending = await db.Outbox
            .Where(m => m.WorkOrderId == workOrderId && m.Kind == OutboxKind.Cmms && m.Status == OutboxStatus.Pending)
            .OrderBy(m => m.Id)
            .ToListAsync(cancellationToken);
        var newest = pending[^1];
        var adapter = adapters.For(first.SiteId);
        if (workOrder is null || adapter is null || sites.Site(first.SiteId)?.Cmms.Adapter is null or CmmsAdapterKind.None)
        {
            Park(pending, "the site no longer has a CMMS adapter configured");
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }

        if (!breakers.TryAcquire(endpoint))
        {
            // Say why on the work order (once), so "why is it not in Maximo yet?" has an answer in the API.
            var reason = HttpResponses.Clip(breakers.HeldBackReason(endpoint), 2000);
            if (workOrder.DeliveryState == DeliveryState.Pending && workOrder.DeliveryError != reason)
            {
                await using var held = await db.Database.BeginTransactionAsync(cancellationToken);
                await ConditionLock.RefreshAsync(db, workOrder, cancellationToken);
                workOrder.DeliveryError = reason;
                await db.SaveChangesAsync(cancellationToken);
                await held.CommitAsync(cancellationToken);
            }

            return false;
        }

        var canonical = Read(newest, MaintenanceJsonContext.Default.CanonicalWorkOrder);
        var known = workOrder.CmmsRecordId is { } recordId && workOrder.CmmsUrl is { } url ? new CmmsRecordRef(recordId, url) : null;
        var result = await adapter.UpsertAsync(canonical, known, cancellationToken);

        // Record the result under the condition's lock, on the work order's latest state: a prediction folding in at
        // the same moment must neither lose its update nor erase the record id we just learned.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await ConditionLock.RefreshAsync(db, workOrder, cancellationToken);
        var now = clock.GetUtcNow();
        var attempt = newest.Attempts + 1;
        foreach (var row in pending)
        {
            row.Attempts = Math.Max(row.Attempts, attempt);
        }

        var tag = new KeyValuePair<string, object?>("system", adapter.System);
        switch (result.Outcome)
        {
            case CmmsOutcome.Success:
                breakers.Success(endpoint);
                foreach (var row in pending)
                {
                    row.Status = row == newest ? OutboxStatus.Delivered : OutboxStatus.Superseded;
                    row.DeliveredAt = now;
                    row.LastError = null;
                }

                workOrder.CmmsRecordId = result.Record!.RecordId;
                workOrder.CmmsUrl = result.Record.Url;
                workOrder.CmmsStatus = result.Status ?? workOrder.CmmsStatus;
                // A newer snapshot committed while this one was on the wire keeps the work order pending.
                var newer = await db.Outbox.AnyAsync(
                    m => m.WorkOrderId == workOrderId && m.Kind == OutboxKind.Cmms && m.Status == OutboxStatus.Pending && m.Id > newest.Id, cancellationToken);
                workOrder.DeliveryState = newer ? DeliveryState.Pending : DeliveryState.Delivered;
                workOrder.DeliveryError = null;
                workOrder.DeliveredAt = now;
                telemetry.CmmsDeliveries.Add(1, tag, new KeyValuePair<string, object?>("result", result.Created ? "created" : "updated"));
                LogDelivered(logger, workOrder.ExternalKey, adapter.System, result.Created ? "created" : "updated", result.Record.RecordId, result.Record.Url);
                break;

            case CmmsOutcome.RateLimited:
                breakers.Release(endpoint);
                Retry(pending, result.Error!, now + Max(result.RetryAfter ?? TimeSpan.Zero, Backoff(attempt)));
                telemetry.CmmsDeliveries.Add(1, tag, new KeyValuePair<string, object?>("result", "rate_limited"));
                LogRetry(logger, workOrder.ExternalKey, adapter.System, attempt, result.Error!);
                break;

            case CmmsOutcome.Transient:
                breakers.Failure(endpoint, result.Error!);
                telemetry.CmmsDeliveries.Add(1, tag, new KeyValuePair<string, object?>("result", "transient"));
                if (attempt >= options.Value.Delivery.MaxAttempts)
                {
                    var error = $"Gave up after {attempt} attempts: {result.Error}";
                    Park(pending, error);
                    workOrder.DeliveryState = DeliveryState.Failed;
                    workOrder.DeliveryError = HttpResponses.Clip(error, 2000);
                    LogParked(logger, workOrder.ExternalKey, adapter.System, error);
                }
                else
                {
                    var wait = Max(result.RetryAfter ?? TimeSpan.Zero, Backoff(attempt));
                    Retry(pending, result.Error!, now + wait);
                    workOrder.DeliveryError = HttpResponses.Clip($"Retrying: {result.Error}", 2000);
                    LogRetry(logger, workOrder.ExternalKey, adapter.System, attempt, result.Error!);
                }

                break;

            default:
                if (result.Outcome == CmmsOutcome.AuthenticationFailed)
                {
                    breakers.Trip(endpoint, result.Error!);
                }
                else
                {
                    breakers.Success(endpoint);
                }

                Park(pending, result.Error!);
                workOrder.DeliveryState = DeliveryState.Failed;
                workOrder.DeliveryError = HttpResponses.Clip(result.Error!, 2000);
                telemetry.CmmsDeliveries.Add(1, tag, new KeyValuePair<string, object?>("result", result.Outcome == CmmsOutcome.AuthenticationFailed ? "auth_failed" : "rejected"));
                LogParked(logger, workOrder.ExternalKey, adapter.System, result.Error!);
                break;
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Exponential backoff with full jitter in the upper half: base·2^(n-1), capped, times 0.5..1.</summary>
    internal TimeSpan Backoff(int attempt)
    {
        var delivery = options.Value.Delivery;
        var exponential = delivery.BackoffBase.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 20));
        var capped = Math.Min(exponential, delivery.BackoffMax.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static void Retry(List<OutboxMessage> rows, string error, DateTimeOffset next)
    {
        foreach (var row in rows)
        {
            row.LastError = HttpResponses.Clip(error, 2000);
            row.NextAttemptAt = next;
        }
    }

    private static T Read<T>(OutboxMessage row, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        JsonSerializer.Deserialize(row.PayloadJson, type) ?? throw new InvalidOperationException($"outbox row {row.Id} has an empty payload");

    private static void Park(List<OutboxMessage> rows, string error)
    {
        foreach (var row in rows)
        {
            row.Status = OutboxStatus.Parked;
            row.LastError = HttpResponses.Clip(error, 2000);
        }
    }

    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "Work order {ExternalKey} delivered to {System} ({Action}): record {RecordId} at {Url}")]
    private static partial void LogDelivered(ILogger logger, string externalKey, string system, string action, string recordId, string url);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "Work order {ExternalKey} to {System}: attempt {Attempt} failed, will retry: {Error}")]
    private static partial void LogRetry(ILogger logger, string externalKey, string system, int attempt, string error);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Error, Message = "Work order {ExternalKey} to {System} parked, not retried: {Error}")]
    private static partial void LogParked(ILogger logger, string externalKey, string system, string error);

    [LoggerMessage(EventId = 2204, Level = LogLevel.Warning, Message = "Publishing {MessageType} (outbox row {RowId}) failed on attempt {Attempt}")]
    private static partial void LogPublishFailed(ILogger logger, string messageType, long rowId, int attempt, Exception exception);

    [LoggerMessage(EventId = 2205, Level = LogLevel.Error, Message = "Outbox dispatch round failed; retrying after the poll interval")]
    private static partial void LogDispatchFailed(ILogger logger, Exception exception);
}
