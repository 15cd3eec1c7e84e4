using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using PdM.Maintenance.Feedback;
using PdM.Maintenance.Outbox;
using PdM.Maintenance.Persistence;
using PdM.Persistence;
using PdM.Security;

namespace PdM.Maintenance.Api;

internal static class CaseEndpoints
{
    private const int MaxPageSize = 500;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var cases = endpoints.MapGroup("/api/cases").WithTags("Cases");

        cases.MapGet("/", async (MaintenanceDbContext db, string? siteId, string? assetId, string? status, int? limit, CancellationToken cancellationToken) =>
        {
            var query = db.Cases.AsNoTracking();
            if (!string.IsNullOrEmpty(siteId))
            {
                query = query.Where(c => c.SiteId == siteId);
            }

            if (!string.IsNullOrEmpty(assetId))
            {
                query = query.Where(c => c.AssetId == assetId);
            }

            if (!string.IsNullOrEmpty(status))
            {
                if (!Enum.TryParse<CaseStatus>(status, ignoreCase: true, out var parsed))
                {
                    return Results.Problem($"Unknown status '{status}'; expected Open or Closed.", statusCode: StatusCodes.Status400BadRequest);
                }

                query = query.Where(c => c.Status == parsed);
            }

            var rows = await query.OrderByDescending(c => c.OpenedAt).Take(Math.Clamp(limit ?? 100, 1, MaxPageSize)).ToListAsync(cancellationToken);
            var ids = rows.Select(c => c.WorkOrderId).ToList();
            var workOrders = await db.WorkOrders.AsNoTracking().Where(w => ids.Contains(w.Id)).ToDictionaryAsync(w => w.Id, cancellationToken);
            return Results.Ok(rows.Select(c => CaseResponse.From(c, workOrders.GetValueOrDefault(c.WorkOrderId))).ToList());
        }).RequireAuthorization(PdMPolicies.MaintenanceRead);

        cases.MapGet("/{id:guid}", async (MaintenanceDbContext db, Guid id, CancellationToken cancellationToken) =>
        {
            var row = await db.Cases.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
            if (row is null)
            {
                return Results.NotFound();
            }

            var workOrder = await db.WorkOrders.AsNoTracking().SingleOrDefaultAsync(w => w.Id == row.WorkOrderId, cancellationToken);
            return Results.Ok(CaseResponse.From(row, workOrder));
        }).RequireAuthorization(PdMPolicies.MaintenanceRead);

        cases.MapPost("/{id:guid}/outcome", async (MaintenanceDbContext db, CaseCloser closer, Guid id, OutcomeRequest request, CancellationToken cancellationToken) =>
        {
            var row = await db.Cases.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
            if (row is null)
            {
                return Results.NotFound();
            }

            var closed = await closer.CloseAsync(row.WorkOrderId, request.Outcome, request.FailureCode, request.ClosedAt, "api", null, cancellationToken);
            return closed
                ? Results.Accepted($"/api/cases/{id}")
                : Results.Problem("The case is already closed; its outcome was recorded before.", statusCode: StatusCodes.Status409Conflict);
        }).RequireAuthorization(PdMPolicies.MaintenanceWrite);

        endpoints.MapGet("/api/rejections", async (MaintenanceDbContext db, string? siteId, string? reason, int? limit, CancellationToken cancellationToken) =>
        {
            var query = db.Rejections.AsNoTracking();
            if (!string.IsNullOrEmpty(siteId))
            {
                query = query.Where(r => r.SiteId == siteId);
            }

            if (!string.IsNullOrEmpty(reason))
            {
                query = query.Where(r => r.Reason == reason);
            }

            var rows = await query.OrderByDescending(r => r.ReceivedAt).Take(Math.Clamp(limit ?? 100, 1, MaxPageSize)).ToListAsync(cancellationToken);
            return Results.Ok(rows.Select(RejectionResponse.From).ToList());
        }).WithTags("Rejections").RequireAuthorization(PdMPolicies.MaintenanceRead);

        endpoints.MapGet("/api/cmms/breakers", (CircuitBreakers breakers) => Results.Ok(breakers.Snapshot())).WithTags("CMMS")
            .RequireAuthorization(PdMPolicies.MaintenanceRead);
    }
}
