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
/// is not polled into the ground either.
/// </summary>
public sealed partial class StatusSyncService(
    IServiceScopeFactory scopes,
    Npgsql.NpgsqlDataSource dataSource,
    CmmsAdapterFactory adapters,
    CircuitBreakers breakers,
    SiteDirectory sites,
    IOptions<MaintenanceOptions> options,
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

    /// <summary>One polling round; returns how many cases it closed.</summary>
    public async Task<int> SyncOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MaintenanceDbContext>();
        var closer = scope.ServiceProvider.GetRequiredService<CaseCloser>();
        var open = await db.WorkOrders
            .Where(w => w.Status == WorkOrderStatus.Open && w.CmmsRecordId != null && w.CmmsUrl != null)
            .OrderBy(w => w.LastSyncedAt ?? DateTimeOffset.MinValue)
            .Take(options.Value.StatusSync.BatchSize)
            .ToListAsync(cancellationToken);
        var closed = 0;
        foreach (var workOrder in open)
        {
            var adapter = adapters.For(workOrder.SiteId);
            var kind = sites.Site(workOrder.SiteId)?.Cmms.Adapter ?? CmmsAdapterKind.None;
            if (adapter is null || !adapter.CanReadStatus)
            {
                continue;
            }

            var endpoint = CmmsAdapterFactory.EndpointKey(workOrder.SiteId, kind);
            if (!breakers.TryAcquire(endpoint))
            {
                continue;
            }

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

            if (result.State is not { } state)
            {
                LogReadFailed(logger, workOrder.ExternalKey, adapter.System, result.Error ?? result.Outcome.ToString());
                continue;
            }

            if (state.Closed)
            {
                var outcome = closer.Classify(workOrder.SiteId, state.CloseCode);
                if (await closer.CloseAsync(workOrder.Id, outcome, state.CloseCode, state.ClosedAt, adapter.System, state.Status, cancellationToken))
                {
                    closed++;
                }
            }
            else
            {
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                await ConditionLock.RefreshAsync(db, workOrder, cancellationToken);
                workOrder.CmmsStatus = state.Status;
                workOrder.LastSyncedAt = clock.GetUtcNow();
                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
        }

        return closed;
    }

    [LoggerMessage(EventId = 2401, Level = LogLevel.Warning, Message = "Status of {ExternalKey} in {System} could not be read: {Error}")]
    private static partial void LogReadFailed(ILogger logger, string externalKey, string system, string error);

    [LoggerMessage(EventId = 2402, Level = LogLevel.Error, Message = "CMMS status sync round failed")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception);
}
