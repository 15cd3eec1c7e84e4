using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PdM.Maintenance.Cmms;
using PdM.Maintenance.Outbox;
using PdM.Maintenance.Persistence;
using PdM.Persistence;
using PdM.Security;

namespace PdM.Maintenance.Api;

/// <summary>How many parked work orders share a reason: what a planner's IT fixes once for all of them.</summary>
public sealed record ParkedReasonCount(string System, string Reason, int Count, string? Example);

/// <summary>
/// Which parked work orders to send again after a fix (<c>POST /api/work-orders/parked/retry</c>): those of a site, a
/// CMMS system and/or a reason as <c>/parked/reasons</c> counts them ("unknown" for none). At least one is required.
/// </summary>
public sealed record ParkedRetryRequest(string? SiteId = null, string? System = null, string? Reason = null);

/// <summary>What a bulk retry re-queued: the work orders, oldest first, at most 500 a call; <see cref="More"/>: more remain parked, call again.</summary>
public sealed record ParkedRetryResponse(int Requeued, IReadOnlyList<Guid> WorkOrders, bool More);

internal static partial class WorkOrderEndpoints
{
    private const int MaxPageSize = 500;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/work-orders").WithTags("Work orders").RequireAuthorization(PdMPolicies.MaintenanceRead);

        // state: the CMMS delivery state; "parked" lists what the CMMS refused (or retries could not deliver), with the
        // vendor's message in cmms.deliveryError and its code in cmms.parkedReason.
        group.MapGet("/", async (MaintenanceDbContext db, string? assetId, string? status, string? state, int? limit, CancellationToken cancellationToken) =>
        {
            var query = db.WorkOrders.AsNoTracking();
            if (!string.IsNullOrEmpty(assetId))
            {
                query = query.Where(w => w.AssetId == assetId);
            }

            if (!string.IsNullOrEmpty(status))
            {
                if (!Enum.TryParse<WorkOrderStatus>(status, ignoreCase: true, out var parsed))
                {
                    return Results.Problem($"Unknown status '{status}'; expected Open or Closed.", statusCode: StatusCodes.Status400BadRequest);
                }

                query = query.Where(w => w.Status == parsed);
            }

            if (!string.IsNullOrEmpty(state))
            {
                if (DeliveryStateOf(state) is not { } delivery)
                {
                    return Results.Problem($"Unknown state '{state}'; expected parked, pending, delivered or notconfigured.", statusCode: StatusCodes.Status400BadRequest);
                }

                query = query.Where(w => w.DeliveryState == delivery);
            }

            var rows = await query
                .OrderByDescending(w => w.CreatedAt)
                .Take(Math.Clamp(limit ?? 100, 1, MaxPageSize))
                .ToListAsync(cancellationToken);
            return Results.Ok(rows.Select(WorkOrderResponse.From).ToList());
        });

        group.MapGet("/{id:guid}", async (MaintenanceDbContext db, Guid id, CancellationToken cancellationToken) =>
        {
            var row = await db.WorkOrders.AsNoTracking().SingleOrDefaultAsync(w => w.Id == id, cancellationToken);
            return row is null ? Results.NotFound() : Results.Ok(WorkOrderResponse.From(row));
        });

        // Parked work orders counted by system and reason (the CMMS's own code), most frequent first.
        group.MapGet("/parked/reasons", async (MaintenanceDbContext db, CancellationToken cancellationToken) =>
        {
            var rows = await db.WorkOrders.AsNoTracking()
                .Where(w => w.DeliveryState == DeliveryState.Failed)
                .GroupBy(w => new { w.CmmsSystem, Reason = w.ParkedReason ?? "unknown" })
                .Select(g => new ParkedReasonCount(g.Key.CmmsSystem, g.Key.Reason, g.Count(), g.Max(w => w.DeliveryError)))
                .ToListAsync(cancellationToken);
            return Results.Ok(rows.OrderByDescending(r => r.Count).ThenBy(r => r.Reason, StringComparer.Ordinal).ToList());
        });

        // After a fix (the CMMS's customizing, its master data, our site settings): send the parked deliveries again.
        // The reference stored with the work order does not change, so the look-up before create finds a record that
        // exists and nothing is created twice. /redeliver is the earlier name of the same action.
        var write = endpoints.MapGroup("/api/work-orders").WithTags("Work orders").RequireAuthorization(PdMPolicies.MaintenanceWrite);
        write.MapPost("/{id:guid}/retry", Retry);
        write.MapPost("/{id:guid}/redeliver", Retry);
        // After a fix that covers many (a CMMS outage that outlasted the attempts, a customizing fix for one reason code):
        // one call instead of one per work order.
        write.MapPost("/parked/retry", RetryParked);
    }

    private static async Task<IResult> Retry(MaintenanceDbContext db, OutboxSignal<MaintenanceDbContext> signal, TimeProvider clock, ILoggerFactory loggers, ClaimsPrincipal user,
        Guid id, CancellationToken cancellationToken)
    {
        var workOrder = await db.WorkOrders.AsNoTracking().SingleOrDefaultAsync(w => w.Id == id, cancellationToken);
        if (workOrder is null)
        {
            return Results.NotFound();
        }

        var requeued = await RequeueAsync(db, workOrder, RequestedBy(user), clock.GetUtcNow(), Logger(loggers), cancellationToken);
        if (requeued == 0)
        {
            return Results.Problem($"Work order {id:D} has no parked delivery (delivery state {workOrder.DeliveryState}).", statusCode: StatusCodes.Status409Conflict);
        }

        signal.Wake();
        return Results.Ok(new { requeued, reference = workOrder.CmmsReference });
    }

    private static async Task<IResult> RetryParked(MaintenanceDbContext db, OutboxSignal<MaintenanceDbContext> signal, TimeProvider clock, ILoggerFactory loggers,
        ClaimsPrincipal user, ParkedRetryRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.SiteId) && string.IsNullOrEmpty(request.System) && string.IsNullOrEmpty(request.Reason))
        {
            return Results.Problem("Name a siteId, system or reason (as /api/work-orders/parked/reasons counts them): a fix seldom covers everything parked.",
                statusCode: StatusCodes.Status400BadRequest);
        }

        var query = db.WorkOrders.AsNoTracking().Where(w => w.DeliveryState == DeliveryState.Failed);
        if (!string.IsNullOrEmpty(request.SiteId))
        {
            query = query.Where(w => w.SiteId == request.SiteId);
        }

        if (!string.IsNullOrEmpty(request.System))
        {
            query = query.Where(w => w.CmmsSystem == request.System);
        }

        if (!string.IsNullOrEmpty(request.Reason))
        {
            query = request.Reason == "unknown" ? query.Where(w => w.ParkedReason == null) : query.Where(w => w.ParkedReason == request.Reason);
        }

        var parked = await query.OrderBy(w => w.CreatedAt).Take(MaxPageSize + 1).ToListAsync(cancellationToken);
        var (by, now, logger) = (RequestedBy(user), clock.GetUtcNow(), Logger(loggers));
        var requeued = new List<Guid>();
        foreach (var workOrder in parked.Take(MaxPageSize))
        {
            if (await RequeueAsync(db, workOrder, by, now, logger, cancellationToken) > 0)
            {
                requeued.Add(workOrder.Id);
            }
        }

        signal.Wake();
        LogBulkRetry(logger, by, requeued.Count, request.SiteId ?? "any", request.System ?? "any", request.Reason ?? "any");
        return Results.Ok(new ParkedRetryResponse(requeued.Count, requeued, parked.Count > MaxPageSize));
    }

    /// <summary>
    /// Hands <paramref name="workOrder"/>'s parked deliveries back to the outbox with fresh attempts; returns how many. The
    /// reference stored with the work order does not change, so the look-up before create finds a record that exists.
    /// </summary>
    private static async Task<int> RequeueAsync(MaintenanceDbContext db, WorkOrder workOrder, string by, DateTimeOffset now, ILogger logger,
        CancellationToken cancellationToken)
    {
        var stream = CmmsDelivery.StreamOf(workOrder.Id);
        var requeued = await db.Outbox
            .Where(m => m.Stream == stream && m.Status == OutboxStatus.Parked)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, OutboxStatus.Pending).SetProperty(m => m.Attempts, 0).SetProperty(m => m.NextAttemptAt, now), cancellationToken);
        if (requeued == 0)
        {
            return 0;
        }

        var note = HttpResponses.Clip($"Retry requested by {by}; last refusal: {workOrder.DeliveryError}", 2000);
        await db.WorkOrders.Where(w => w.Id == workOrder.Id).ExecuteUpdateAsync(s => s
            .SetProperty(w => w.DeliveryState, DeliveryState.Pending)
            .SetProperty(w => w.DeliveryError, note)
            .SetProperty(w => w.ParkedReason, (string?)null), cancellationToken);
        LogRetry(logger, workOrder.ExternalKey, workOrder.CmmsReference ?? "(none yet)", by, requeued, workOrder.ParkedReason ?? "unknown");
        return requeued;
    }

    private static string RequestedBy(ClaimsPrincipal user) => user.FindFirstValue("sub") ?? user.Identity?.Name ?? "unknown";

    private static ILogger Logger(ILoggerFactory loggers) => loggers.CreateLogger(typeof(WorkOrderEndpoints).FullName!);

    private static DeliveryState? DeliveryStateOf(string state) => state.ToUpperInvariant() switch
    {
        "PARKED" or "FAILED" => DeliveryState.Failed,
        "PENDING" => DeliveryState.Pending,
        "DELIVERED" => DeliveryState.Delivered,
        "NOTCONFIGURED" or "NOT-CONFIGURED" => DeliveryState.NotConfigured,
        _ => null,
    };

    [LoggerMessage(EventId = 2207, Level = LogLevel.Information,
        Message = "Work order {ExternalKey} (reference {Reference}): retry requested by {User}, {Requeued} parked delivery(ies) re-queued (was parked for {Reason})")]
    private static partial void LogRetry(ILogger logger, string externalKey, string reference, string user, int requeued, string reason);

    [LoggerMessage(EventId = 2209, Level = LogLevel.Information,
        Message = "Parked work orders retried by {User}: {WorkOrders} re-queued (site {SiteId}, system {System}, reason {Reason})")]
    private static partial void LogBulkRetry(ILogger logger, string user, int workOrders, string siteId, string system, string reason);
}
