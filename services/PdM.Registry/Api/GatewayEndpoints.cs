using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using PdM.Registry.Persistence;
using PdM.Security;

namespace PdM.Registry.Api;

internal static class GatewayEndpoints
{
    /// <summary>A gateway is stale once this many of its own heartbeat intervals passed without one.</summary>
    public const int StaleAfterIntervals = 3;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        // Every gateway that ever sent a heartbeat, with its latest one: how fresh, which versions, what it runs and serves.
        endpoints.MapGet("/api/gateways", async (RegistryDbContext db, TimeProvider clock, CancellationToken cancellationToken) =>
        {
            var now = clock.GetUtcNow();
            var rows = await db.Gateways.AsNoTracking().OrderBy(g => g.SiteId).ThenBy(g => g.GatewayId).ToListAsync(cancellationToken);
            return Results.Ok(rows.Select(g => GatewayResponse.From(g, now)).ToList());
        }).WithTags("Gateways").RequireAuthorization(PdMPolicies.GatewaysRead);
    }
}

/// <summary>One gateway as <c>GET /api/gateways</c> lists it.</summary>
internal sealed record GatewayResponse(
    string GatewayId,
    string SiteId,
    DateTimeOffset LastHeartbeatAt,
    DateTimeOffset ReceivedAt,
    double AgeSeconds,
    bool Stale,
    int IntervalSeconds,
    double? ClockOffsetMs,
    string GatewayVersion,
    string? EgressPolicyVersion,
    JsonElement Heartbeat)
{
    public static GatewayResponse From(GatewayStatus row, DateTimeOffset now)
    {
        // Age by the registry's clock (receipt), so a gateway whose clock is off is not called stale or fresh for it.
        var age = Math.Max(0, (now - row.ReceivedAt).TotalSeconds);
        using var heartbeat = JsonDocument.Parse(row.Heartbeat);
        return new(row.GatewayId, row.SiteId, row.HeartbeatAt, row.ReceivedAt, Math.Round(age, 1),
            age > GatewayEndpoints.StaleAfterIntervals * (double)Math.Max(1, row.IntervalSeconds), row.IntervalSeconds,
            row.ClockOffsetMs, row.GatewayVersion, row.EgressPolicyVersion, heartbeat.RootElement.Clone());
    }
}
