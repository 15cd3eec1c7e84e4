using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using PdM.Contracts;
using PdM.Contracts.Models;
using PdM.Persistence;

namespace PdM.Registry.Consumers;

/// <summary>Keeps the gateways' drift reports per package digest: the latest shows on the model version.</summary>
public sealed class ModelDriftConsumer(Persistence.RegistryDbContext db, TimeProvider clock) : IConsumer<ModelDriftDetected>
{
    public async Task Consume(ConsumeContext<ModelDriftDetected> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        if (!Artifacts.ArtifactAddress.IsValid(m.ModelDigest) || !double.IsFinite(m.Psi) || !double.IsFinite(m.Threshold) || m.WindowRows < 0)
        {
            // Not about any registered package, or not a number: ignored rather than shown.
            return;
        }

        var gateway = ColumnText.Clip(m.GatewayId, 128);
        var assetClass = ColumnText.Clip(m.AssetClass, 128);
        var feature = ColumnText.Clip(m.Feature, 128);
        var site = m.SiteId is { Length: > 0 and <= 64 } s ? s : null;
        var featurePsi = JsonSerializer.Serialize(m.FeaturePsi, ContractsJsonContext.Default.IReadOnlyDictionaryStringDouble);

        // The event id is the key: a redelivered report is stored once.
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"""
            INSERT INTO registry.model_drift (event_id, model_digest, gateway_id, site_id, asset_class, feature, psi, threshold, feature_psi, window_rows, occurred_at, received_at)
            VALUES ({m.EventId}, {m.ModelDigest}, {gateway}, {site}, {assetClass}, {feature}, {m.Psi}, {m.Threshold}, CAST({featurePsi} AS jsonb), {m.WindowRows}, {m.OccurredAt}, {clock.GetUtcNow()})
            ON CONFLICT (event_id) DO NOTHING
            """,
            context.CancellationToken);
    }
}
