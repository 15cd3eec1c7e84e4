using Microsoft.EntityFrameworkCore;

namespace PdM.Maintenance.Persistence;

/// <summary>
/// A transaction-scoped PostgreSQL advisory lock per condition (site, asset, failure mode). Everything that changes a
/// case or its work order takes it — the consumer, the dispatcher recording a delivery, the status sync, the closer — so
/// their read-modify-write cycles never interleave, across threads and hosts alike.
/// </summary>
internal static class ConditionLock
{
    public static async Task AcquireAsync(MaintenanceDbContext db, string siteId, string assetId, string failureMode, CancellationToken cancellationToken)
    {
        var key = $"{siteId}|{assetId}|{failureMode}";
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock(hashtext({key}))", cancellationToken);
    }

    /// <summary>Locks the work order's condition and re-reads it, so the change applies to its latest state.</summary>
    public static async Task RefreshAsync(MaintenanceDbContext db, WorkOrder workOrder, CancellationToken cancellationToken)
    {
        await AcquireAsync(db, workOrder.SiteId, workOrder.AssetId, workOrder.FailureMode, cancellationToken);
        await db.Entry(workOrder).ReloadAsync(cancellationToken);
    }
}
