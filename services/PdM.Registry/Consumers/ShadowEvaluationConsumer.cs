using MassTransit;
using Microsoft.EntityFrameworkCore;
using PdM.Contracts.Models;
using PdM.Persistence;

namespace PdM.Registry.Consumers;

/// <summary>Keeps the gateways' shadow statistics per candidate digest and site: the evidence the promotion gates read.</summary>
public sealed class ShadowEvaluationConsumer(Persistence.RegistryDbContext db, TimeProvider clock) : IConsumer<ShadowEvaluationReported>
{
    public async Task Consume(ConsumeContext<ShadowEvaluationReported> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        if (!Artifacts.ArtifactAddress.IsValid(m.CandidateModelDigest) || m.ComparedRows < 0 || m.AgreedRows < 0 || m.AgreedRows > m.ComparedRows || m.CandidateFailedRows < 0)
        {
            // Not evidence for any registered package: ignored rather than poisoning the gate.
            return;
        }

        var gateway = ColumnText.Clip(m.GatewayId, 128);
        var assetClass = ColumnText.Clip(m.AssetClass, 128);
        var site = m.SiteId is { Length: > 0 and <= 64 } s ? s : null;

        // The event id is the key: a redelivered report is counted once.
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"""
            INSERT INTO registry.shadow_evaluations (event_id, candidate_digest, gateway_id, site_id, asset_class, compared_rows, agreed_rows, candidate_failed_rows, period_start, period_end, received_at)
            VALUES ({m.EventId}, {m.CandidateModelDigest}, {gateway}, {site}, {assetClass}, {m.ComparedRows}, {m.AgreedRows}, {m.CandidateFailedRows}, {m.PeriodStart}, {m.PeriodEnd}, {clock.GetUtcNow()})
            ON CONFLICT (event_id) DO NOTHING
            """,
            context.CancellationToken);
    }
}
