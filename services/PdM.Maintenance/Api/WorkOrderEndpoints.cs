using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using PdM.Maintenance.Persistence;
using PdM.Security;

namespace PdM.Maintenance.Api;

internal static class WorkOrderEndpoints
{
    private const int MaxPageSize = 500;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/work-orders").WithTags("Work orders").RequireAuthorization(PdMPolicies.MaintenanceRead);

        group.MapGet("/", async (MaintenanceDbContext db, string? assetId, string? status, int? limit, CancellationToken cancellationToken) =>
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
    }
}
