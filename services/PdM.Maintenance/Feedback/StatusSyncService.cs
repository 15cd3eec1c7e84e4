using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Maintenance.Cmms;
using PdM.Maintenance.Outbox;
using PdM.Maintenance.Persistence;
using PdM.Maintenance.Policy;

namespace PdM.Maintenance.Feedback;

/// <summary>
/// The feedback loop: polls the CMMS for the status of open, delivered records (oldest sync first) and, when a planner
/// closed one, records the outcome through <see cref="CaseCloser"/>. Shares the delivery breakers, so a CMMS that is down
/// is not polled into the ground either. Failures are per record: counted
/// (<c>pdm.maintenance.status_sync_failures{system,reason}</c>), logged with their reason, and retried with backoff.
/// </summary>
public sealed partial class StatusSyncService(
    IServiceScopeFactory scopes,
    Npgsql.NpgsqlDataSource dataSource,
    CmmsAdapterFactory adapters,
    CircuitBreakers breakers,
    SiteDirectory sites,
    IOptions<MaintenanceOptions> options,
    MaintenanceTelemetry telemetry,
    TimeProvider clock,
    ILogger<StatusSyncService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sync = options.Value.StatusSync;
        if (!sync.Enabled)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(sync.Interval, clock, stoppingToken);
                // One replica polls the CMMS per round; the others skip it (a dead replica's lock dies with its connection).
                await PdM.Persistence.ExclusiveRun.TryAsync(dataSource, "maintenance.status-sync", SyncOnceAsync, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogSyncFailed(logger, exception);
            }
        }
    }

    /// <summary>
    /// One polling round; returns how many cases it closed. Each record is read and recorded on its own: one that
    /// fails (the CMMS refuses it, answers nonsense, a link cannot be followed) is counted, logged with its reason and
    /// backed off, and the round goes on with the others.
    /// </summary>
    public async Task<int> SyncOnceAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        List<Guid> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            due = await scope.ServiceProvider.GetRequiredService<MaintenanceDbContext>().WorkOrders
                .Where(w => w.Status == WorkOrderStatus.Open && w.CmmsRecordId != null && w.CmmsUrl != null && (w.NextSyncAt == null || w.NextSyncAt <= now))
                .OrderBy(w => w.LastSyncedAt ?? DateTimeOffset.MinValue)
                .Take(options.Value.StatusSync.BatchSize)
                .Select(w => w.Id)
                .ToListAsync(cancellationToken);
        }

        var closed = 0;
        foreach (var id in due)
        {
            if (await SyncRecordAsync(id, cancellationToken))
            {
                closed++;
            }
        }

        return closed;
    }

    private async Task<bool> SyncRecordAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MaintenanceDbContext>();
        var workOrder = await db.WorkOrders.SingleAsync(w => w.Id == id, cancellationToken);
        var adapter = adapters.For(workOrder.SiteId);
        var kind = sites.Site(workOrder.SiteId)?.Cmms.Adapter ?? CmmsAdapterKind.None;
        if (adapter is null || !adapter.CanReadStatus)
        {
            return false;
        }

        var endpoint = CmmsAdapterFactory.EndpointKey(workOrder.SiteId, kind);
        if (!breakers.TryAcquire(endpoint))
        {
            return false;
        }

        string reason;
        string error;
        try
        {
            var result = await adapter.ReadAsync(new CmmsRecordRef(workOrder.CmmsRecordId!, workOrder.CmmsUrl!), cancellationToken);
            switch (result.Outcome)
            {
                case CmmsOutcome.Success:
                    breakers.Success(endpoint);
                    break;
                case CmmsOutcome.Transient:
                    breakers.Failure(endpoint, result.Error!);
                    break;
                case CmmsOutcome.AuthenticationFailed:
                    breakers.Trip(endpoint, result.Error!);
                    break;
                default:
                    breakers.Release(endpoint);
                    break;
            }

            if (result.State is { } state)
            {
                return await RecordAsync(db, scope.ServiceProvider.GetRequiredService<CaseCloser>(), workOrder, adapter.System, state, cancellationToken);
            }

            reason = result.Outcome switch
            {
                CmmsOutcome.Transient => "unavailable",
                CmmsOutcome.RateLimited => "rate_limited",
                CmmsOutcome.AuthenticationFailed => "auth_failed",
                _ => "refused",
            };
            error = result.Error ?? result.Outcome.ToString();
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Whatever this one record does (a link that cannot be followed, a body that does not parse, a failed save),
            // it must not cost the other records their sync.
            breakers.Release(endpoint);
            db.ChangeTracker.Clear();
            reason = "error";
            error = $"{exception.GetType().Name}: {exception.Message}";
        }

        await BackOffAsync(db, id, adapter.System, reason, error, cancellationToken);
        return false;
    }

    private async Task<bool> RecordAsync(MaintenanceDbContext db, CaseCloser closer, WorkOrder workOrder, string system, CmmsRecordState state, CancellationToken cancellationToken)
    {
        if (state.Closed)
        {
            var outcome = closer.Classify(workOrder.SiteId, state.CloseCode);
            return await closer.CloseAsync(workOrder.Id, outcome, state.CloseCode, state.ClosedAt, system, state.Status, cancellationToken);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await ConditionLock.RefreshAsync(db, workOrder, cancellationToken);
        workOrder.CmmsStatus = state.Status;
        workOrder.LastSyncedAt = clock.GetUtcNow();
        workOrder.SyncFailures = 0;
        workOrder.NextSyncAt = null;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return false;
    }

    /// <summary>Counts the failure and schedules the record's next read: the sync interval doubled per failure in a row, capped.</summary>
    private async Task BackOffAsync(MaintenanceDbContext db, Guid id, string system, string reason, string error, CancellationToken cancellationToken)
    {
        telemetry.StatusSyncFailures.Add(1, new KeyValuePair<string, object?>("system", system), new KeyValuePair<string, object?>("reason", reason));
        var sync = options.Value.StatusSync;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var workOrder = await db.WorkOrders.SingleAsync(w => w.Id == id, cancellationToken);
        await ConditionLock.RefreshAsync(db, workOrder, cancellationToken);
        workOrder.SyncFailures++;
        var wait = sync.Interval.TotalMilliseconds * Math.Pow(2, Math.Min(workOrder.SyncFailures - 1, 20));
        workOrder.NextSyncAt = clock.GetUtcNow() + TimeSpan.FromMilliseconds(Math.Min(wait, sync.FailureBackoffMax.TotalMilliseconds));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogReadFailed(logger, workOrder.ExternalKey, workOrder.CmmsRecordId!, system, workOrder.SyncFailures, workOrder.NextSyncAt.Value, error);
    }

    [LoggerMessage(EventId = 2401, Level = LogLevel.Warning,
        Message = "Status of {ExternalKey} (record {RecordId}) in {System} could not be read, failure {Failures} in a row, next try at {NextSyncAt:O}: {Error}")]
    private static partial void LogReadFailed(ILogger logger, string externalKey, string recordId, string system, int failures, DateTimeOffset nextSyncAt, string error);

    [LoggerMessage(EventId = 2402, Level = LogLevel.Error, Message = "CMMS status sync round failed")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception);
}
