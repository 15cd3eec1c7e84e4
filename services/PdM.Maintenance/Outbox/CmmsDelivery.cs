using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Cmms;
using PdM.Maintenance.Persistence;
using PdM.Maintenance.Policy;
using PdM.Persistence;

namespace PdM.Maintenance.Outbox;

/// <summary>
/// Maintenance's own policy for the outbox rows that go to a CMMS, on top of the shared dispatcher (order per work
/// order, lease, retries): upsert through the site's adapter; retry transient failures with backoff, honouring
/// <c>Retry-After</c>; hold rows back while the endpoint's breaker is open; park what retrying cannot fix
/// (authentication, contract errors, exhausted retries) with a clear reason on the work order. For one work order only
/// the newest snapshot is sent; older pending ones are superseded by it.
/// </summary>
public sealed partial class CmmsDelivery(
    CircuitBreakers breakers,
    CmmsAdapterFactory adapters,
    SiteDirectory sites,
    IOptions<MaintenanceOptions> options,
    MaintenanceTelemetry telemetry,
    TimeProvider clock,
    ILogger<CmmsDelivery> logger) : IOutboxHandler<MaintenanceDbContext>
{
    public const string Type = "cmms";

    public string MessageType => Type;

    /// <summary>A work order's CMMS snapshots form one stream, apart from its bus events (an open breaker holds back only these).</summary>
    public static string StreamOf(Guid workOrderId) => "cmms:" + workOrderId.ToString("N");

    public async Task<bool> DeliverAsync(MaintenanceDbContext db, OutboxMessage row, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(row);
        var pending = await db.Outbox
            .Where(m => m.Stream == row.Stream && m.Status == OutboxStatus.Pending)
            .OrderBy(m => m.Id)
            .ToListAsync(cancellationToken);
        var newest = pending[^1];
        var canonical = JsonSerializer.Deserialize(newest.PayloadJson, MaintenanceJsonContext.Default.CanonicalWorkOrder)
            ?? throw new JsonException($"outbox row {newest.Id} has an empty payload");
        var workOrder = await db.WorkOrders.SingleOrDefaultAsync(w => w.Id == canonical.WorkOrderId, cancellationToken);
        var adapter = adapters.For(canonical.SiteId);
        var kind = sites.Site(canonical.SiteId)?.Cmms.Adapter;
        if (workOrder is null || adapter is null || kind is null or CmmsAdapterKind.None)
        {
            Park(pending, "the site no longer has a CMMS adapter configured");
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }

        var endpoint = CmmsAdapterFactory.EndpointKey(canonical.SiteId, kind.Value);
        if (!breakers.TryAcquire(endpoint))
        {
            // Say why on the work order (once), so "why is it not in Maximo yet?" has an answer in the API. Looked at
            // again after a poll interval: rows behind an open breaker must not fill every round.
            var reason = HttpResponses.Clip(breakers.HeldBackReason(endpoint), OutboxModel.MaxErrorLength);
            row.RetryAt(clock.GetUtcNow() + options.Value.Delivery.PollInterval, reason);
            await using var held = await db.Database.BeginTransactionAsync(cancellationToken);
            if (workOrder.DeliveryState == DeliveryState.Pending && workOrder.DeliveryError != reason)
            {
                await ConditionLock.RefreshAsync(db, workOrder, cancellationToken);
                workOrder.DeliveryError = reason;
            }

            await db.SaveChangesAsync(cancellationToken);
            await held.CommitAsync(cancellationToken);
            return false;
        }

        // A delivery that throws (a stored link the HTTP client refuses, the database gone while the result is recorded)
        // says nothing about the endpoint's health, and no Success or Failure will come for it: free the trial slot, or
        // a half-open breaker would wait for that answer for ever and hold every delivery to the endpoint until a restart.
        try
        {
            var known = workOrder.CmmsRecordId is { } recordId && workOrder.CmmsUrl is { } url ? new CmmsRecordRef(recordId, url) : null;
            var result = await UpsertWithinAttemptTimeoutAsync(adapter, canonical, known, cancellationToken);

            // Record the result under the condition's lock, on the work order's latest state: a prediction folding in at
            // the same moment must neither lose its update nor erase the record id we just learned.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await ConditionLock.RefreshAsync(db, workOrder, cancellationToken);
            workOrder.CmmsReference ??= adapter.ReferenceFor(canonical.ExternalKey);
            var now = clock.GetUtcNow();
            var attempt = newest.Attempts + 1;
            foreach (var each in pending)
            {
                each.Attempts = Math.Max(each.Attempts, attempt);
            }

            // A newer snapshot committed while this one was on the wire keeps the work order pending.
            var newer = result.Outcome == CmmsOutcome.Success
                && await db.Outbox.AnyAsync(m => m.Stream == newest.Stream && m.Status == OutboxStatus.Pending && m.Id > newest.Id, cancellationToken);
            var delivered = Record(workOrder, adapter.System, endpoint, pending, newest, result, attempt, newer, now);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return delivered;
        }
        catch
        {
            breakers.Release(endpoint);
            throw;
        }
    }

    /// <summary>
    /// The adapter's requests each have their own timeout, but an attempt may make several (lookup, token, create), and
    /// the outbox lease is renewed only between deliveries: an attempt past <see cref="DeliveryOptions.AttemptTimeout"/>
    /// is abandoned and counts as a CMMS that did not answer (breaker failure, retry with backoff). Whether the CMMS
    /// carried out a create before that is found by the next attempt's lookup by reference, so without a known record
    /// the create is in doubt (it may have been sent).
    /// </summary>
    private async Task<CmmsResult> UpsertWithinAttemptTimeoutAsync(ICmmsAdapter adapter, CanonicalWorkOrder canonical, CmmsRecordRef? known,
        CancellationToken cancellationToken)
    {
        var limit = options.Value.Delivery.AttemptTimeout;
        using var deadline = new CancellationTokenSource(limit, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await adapter.UpsertAsync(canonical, known, linked.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return CmmsResult.Fail(CmmsOutcome.Transient,
                string.Create(CultureInfo.InvariantCulture, $"{adapter.System} did not finish the delivery within Maintenance:Delivery:AttemptTimeout ({limit})"))
                with { CreateInDoubt = known is null };
        }
    }

    private bool Record(WorkOrder workOrder, string system, string endpoint, List<OutboxMessage> pending, OutboxMessage newest,
        CmmsResult result, int attempt, bool newer, DateTimeOffset now)
    {
        var tag = new KeyValuePair<string, object?>("system", system);
        switch (result.Outcome)
        {
            case CmmsOutcome.Success:
                breakers.Success(endpoint);
                foreach (var each in pending)
                {
                    if (each == newest)
                    {
                        each.MarkDelivered(now);
                    }
                    else
                    {
                        each.MarkSuperseded(now);
                    }
                }

                workOrder.CmmsRecordId = result.Record!.RecordId;
                workOrder.CmmsUrl = result.Record.Url;
                workOrder.CmmsStatus = result.Status ?? workOrder.CmmsStatus;
                workOrder.DeliveryState = newer ? DeliveryState.Pending : DeliveryState.Delivered;
                workOrder.DeliveryError = null;
                workOrder.ParkedReason = null;
                workOrder.DeliveredAt = now;
                telemetry.CmmsDeliveries.Add(1, tag, new KeyValuePair<string, object?>("result", result.Created ? "created" : "updated"));
                LogDelivered(logger, workOrder.ExternalKey, system, result.Created ? "created" : "updated", result.Record.RecordId, result.Record.Url);
                return true;

            case CmmsOutcome.RateLimited:
                breakers.Release(endpoint);
                Retry(pending, result.Error!, now + Max(result.RetryAfter ?? TimeSpan.Zero, Backoff(attempt)));
                telemetry.CmmsDeliveries.Add(1, tag, new KeyValuePair<string, object?>("result", "rate_limited"));
                LogRetry(logger, workOrder.ExternalKey, system, attempt, result.Error!);
                return false;

            case CmmsOutcome.Transient:
                breakers.Failure(endpoint, result.Error!);
                telemetry.CmmsDeliveries.Add(1, tag, new KeyValuePair<string, object?>("result", "transient"));
                if (attempt >= options.Value.Delivery.MaxAttempts)
                {
                    var error = $"Gave up after {attempt} attempts: {result.Error}";
                    Park(pending, error);
                    ParkWorkOrder(workOrder, system, "retries_exhausted", error);
                    return true;
                }

                var (wait, why) = (Max(result.RetryAfter ?? TimeSpan.Zero, Backoff(attempt)), result.Error!);
                if (result.CreateInDoubt)
                {
                    // The CMMS may still carry the create out after we stopped waiting: only once it has does the next
                    // attempt's lookup by reference find the record instead of creating a second one.
                    wait = Max(wait, options.Value.Delivery.InDoubtWait);
                    why = string.Create(CultureInfo.InvariantCulture,
                        $"{why} (the create may still be carried out: looked up by reference again in {wait.TotalSeconds:0} s, Maintenance:Delivery:InDoubtWait)");
                }

                Retry(pending, why, now + wait);
                workOrder.DeliveryError = HttpResponses.Clip($"Retrying: {why}", OutboxModel.MaxErrorLength);
                LogRetry(logger, workOrder.ExternalKey, system, attempt, why);
                return false;

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
                var kind = result.Outcome == CmmsOutcome.AuthenticationFailed ? "auth_failed" : "rejected";
                ParkWorkOrder(workOrder, system, result.Code ?? kind, result.Error!);
                telemetry.CmmsDeliveries.Add(1, tag, new KeyValuePair<string, object?>("result", kind));
                return true;
        }
    }

    /// <summary>
    /// Parks the work order with the vendor's message and a countable reason (the vendor's code when it gave one), so
    /// <c>GET /api/work-orders?state=parked</c> lists it and <c>pdm.maintenance.work_orders_parked{system,reason}</c>
    /// counts it; <c>POST /api/work-orders/{id}/retry</c> sends it again after a fix.
    /// </summary>
    private void ParkWorkOrder(WorkOrder workOrder, string system, string reason, string error)
    {
        workOrder.DeliveryState = DeliveryState.Failed;
        workOrder.DeliveryError = HttpResponses.Clip(error, OutboxModel.MaxErrorLength);
        workOrder.ParkedReason = HttpResponses.Clip(reason, 64);
        telemetry.WorkOrdersParked.Add(1, new KeyValuePair<string, object?>("system", system), new KeyValuePair<string, object?>("reason", workOrder.ParkedReason));
        LogParked(logger, workOrder.ExternalKey, system, reason, error);
    }

    private TimeSpan Backoff(int attempt) => OutboxOptions.Backoff(attempt, options.Value.Delivery.BackoffBase, options.Value.Delivery.BackoffMax);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static void Retry(List<OutboxMessage> rows, string error, DateTimeOffset next)
    {
        foreach (var row in rows)
        {
            row.RetryAt(next, HttpResponses.Clip(error, OutboxModel.MaxErrorLength));
        }
    }

    private static void Park(List<OutboxMessage> rows, string error)
    {
        foreach (var row in rows)
        {
            row.Park(HttpResponses.Clip(error, OutboxModel.MaxErrorLength));
        }
    }

    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "Work order {ExternalKey} delivered to {System} ({Action}): record {RecordId} at {Url}")]
    private static partial void LogDelivered(ILogger logger, string externalKey, string system, string action, string recordId, string url);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "Work order {ExternalKey} to {System}: attempt {Attempt} failed, will retry: {Error}")]
    private static partial void LogRetry(ILogger logger, string externalKey, string system, int attempt, string error);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Error, Message = "Work order {ExternalKey} to {System} parked, not retried ({Reason}): {Error}")]
    private static partial void LogParked(ILogger logger, string externalKey, string system, string reason, string error);
}
