using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using PdM.Contracts;
using PdM.Contracts.Edge;
using PdM.Persistence;
using PdM.Registry.Persistence;

namespace PdM.Registry.Consumers;

/// <summary>
/// Keeps the latest heartbeat per gateway (<c>GET /api/gateways</c>, and the asset inventories a deployment is checked
/// against). Idempotent through the inbox; an older heartbeat (a replayed backlog) never overwrites a newer one.
/// </summary>
public sealed class GatewayHeartbeatConsumer(RegistryDbContext db, RegistryTelemetry telemetry, TimeProvider clock) : IConsumer<GatewayHeartbeat>
{
    public const string ConsumerName = "registry.gateway-heartbeats";

    public async Task Consume(ConsumeContext<GatewayHeartbeat> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        if (string.IsNullOrWhiteSpace(m.GatewayId) || m.GatewayId.Length > 128 || string.IsNullOrWhiteSpace(m.SiteId) || m.SiteId.Length > 64)
        {
            // Not a gateway the registry could list or deploy to: ignored rather than poisoning the table.
            return;
        }

        var now = clock.GetUtcNow();
        // The heartbeat's publish (MassTransit's SentTime, the gateway's clock), not its journal time: a heartbeat sent
        // late after an outage still measures the clocks, not the outage. Includes the broker transit (ms).
        double? offset = context.SentTime is { } sent ? Math.Round((now - new DateTimeOffset(DateTime.SpecifyKind(sent, DateTimeKind.Utc))).TotalMilliseconds, 1) : null;
        var json = JsonSerializer.Serialize(m, ContractsJsonContext.Default.GatewayHeartbeat);
        var version = ColumnText.Clip(m.Software?.GatewayVersion ?? "unknown", 200);
        var policy = m.Egress?.Version is { } v ? ColumnText.Clip(v, 64) : null;

        await using var transaction = await db.Database.BeginTransactionAsync(context.CancellationToken);
        if (!await Inbox.TryRecordAsync(db, context.MessageId ?? m.EventId, ConsumerName, now, context.CancellationToken))
        {
            return;
        }

        await db.Database.ExecuteSqlInterpolatedAsync(
            $"""
            INSERT INTO registry.gateways (gateway_id, site_id, heartbeat_at, received_at, interval_seconds, clock_offset_ms, gateway_version, egress_policy_version, heartbeat)
            VALUES ({m.GatewayId}, {m.SiteId}, {m.OccurredAt}, {now}, {m.IntervalSeconds}, {offset}, {version}, {policy}, CAST({json} AS jsonb))
            ON CONFLICT (gateway_id) DO UPDATE SET
                site_id = EXCLUDED.site_id, heartbeat_at = EXCLUDED.heartbeat_at, received_at = EXCLUDED.received_at,
                interval_seconds = EXCLUDED.interval_seconds, clock_offset_ms = EXCLUDED.clock_offset_ms,
                gateway_version = EXCLUDED.gateway_version, egress_policy_version = EXCLUDED.egress_policy_version, heartbeat = EXCLUDED.heartbeat
            WHERE registry.gateways.heartbeat_at < EXCLUDED.heartbeat_at
            """,
            context.CancellationToken);
        await transaction.CommitAsync(context.CancellationToken);
        telemetry.Heartbeats.Add(1);
    }
}
