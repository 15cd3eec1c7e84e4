using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using PdM.Lineage.Audit;
using PdM.Lineage.Persistence;
using PdM.Security;

namespace PdM.Lineage.Api;

public sealed record AuditEntryResponse(
    long Sequence, DateTimeOffset OccurredAt, DateTimeOffset RecordedAt, string Actor, string Action, string Subject,
    string? BeforeDigest, string? AfterDigest, string Detail, string PreviousHash, string Hash);

internal static class AuditEndpoints
{
    private const int MaxPageSize = 500;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/audit").WithTags("Audit").RequireAuthorization(PdMPolicies.AuditRead);

        // 200 with valid=false when broken: the verification itself succeeded, and its answer is in the body.
        group.MapGet("/verify", async (AuditLog audit, CancellationToken cancellationToken) =>
            Results.Ok(await audit.VerifyAsync(null, cancellationToken)));

        group.MapGet("/", async (LineageDbContext db, string? subject, string? actor, long? after, int? limit, CancellationToken cancellationToken) =>
        {
            var query = db.AuditEntries.AsNoTracking();
            if (!string.IsNullOrEmpty(subject))
            {
                query = query.Where(e => e.Subject == subject);
            }

            if (!string.IsNullOrEmpty(actor))
            {
                query = query.Where(e => e.Actor == actor);
            }

            if (after is { } sequence)
            {
                query = query.Where(e => e.Sequence > sequence);
            }

            var rows = await query.OrderBy(e => e.Sequence).Take(Math.Clamp(limit ?? 100, 1, MaxPageSize)).ToListAsync(cancellationToken);
            return Results.Ok(rows.Select(e => new AuditEntryResponse(e.Sequence, e.OccurredAt, e.RecordedAt, e.Actor, e.Action, e.Subject,
                e.BeforeDigest, e.AfterDigest, e.Detail, e.PreviousHash, e.Hash)).ToList());
        });
    }
}
