using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PdM.Contracts;
using PdM.Contracts.Registry;
using PdM.ModelPackage;
using PdM.Registry.Persistence;

namespace PdM.Registry.Application;

/// <summary>
/// Checks a version's feature spec against the asset inventories the target sites' gateways last reported in their
/// heartbeats (<c>registry.gateways</c>): an asset that lacks a sensor the features read can never be scored by the
/// version, and keeps the rules. A site no gateway has reported from yet cannot be checked; the check says so, and the
/// gateway checks again against its own asset model when it loads the version.
/// </summary>
internal static class FeatureCompatibilityCheck
{
    /// <summary>Assets named in a refusal's detail; the problem's <c>assets</c> list carries them all.</summary>
    private const int AssetsInDetail = 20;

    public static async Task<FeatureCompatibility?> ForAsync(RegistryDbContext db, ModelVersionRecord record, IReadOnlyList<string> sites, bool allowPartial, CancellationToken cancellationToken)
    {
        // Validated at upload; a manifest that no longer parses is not this check's to judge.
        if (ManifestFeatureSpec.Read(Encoding.UTF8.GetBytes(record.ManifestJson)) is not { } spec)
        {
            return null;
        }

        var rows = await db.Gateways.AsNoTracking().Where(g => sites.Contains(g.SiteId)).OrderBy(g => g.HeartbeatAt).ToListAsync(cancellationToken);
        var assets = new Dictionary<(string Site, string Asset), AssetSensorCoverage>();
        foreach (var row in rows)
        {
            // Oldest first: when two gateways of a site report one asset (a shard handed over), the newer report wins.
            foreach (var inventory in Inventory(row.Heartbeat))
            {
                if (!string.Equals(inventory.AssetClass, record.AssetClass, StringComparison.Ordinal))
                {
                    continue;
                }

                foreach (var asset in inventory.Assets)
                {
                    assets[(row.SiteId, asset.AssetId)] = new AssetSensorCoverage
                    {
                        SiteId = row.SiteId,
                        GatewayId = row.GatewayId,
                        AssetId = asset.AssetId,
                        MissingSensors = spec.MissingSensors(asset.Sensors),
                    };
                }
            }
        }

        var reported = rows.Select(r => r.SiteId).ToHashSet(StringComparer.Ordinal);
        return new FeatureCompatibility
        {
            Assets = [.. assets.Values.OrderBy(a => a.SiteId, StringComparer.Ordinal).ThenBy(a => a.AssetId, StringComparer.Ordinal)],
            UncheckedSites = [.. sites.Where(s => !reported.Contains(s)).Order(StringComparer.Ordinal)],
            SitesWithoutAssets = [.. sites.Where(s => reported.Contains(s) && !assets.Keys.Any(k => k.Site == s)).Order(StringComparer.Ordinal)],
            AllowPartial = allowPartial,
        };
    }

    /// <summary>
    /// Why the deployment must not go ahead, or null: any asset falls back or a site has no asset of the class, unless
    /// the caller allowed a partial deployment, and even then something must be able to decide with it.
    /// </summary>
    public static string? Refusal(FeatureCompatibility compatibility, ModelVersionRecord record)
    {
        ArgumentNullException.ThrowIfNull(compatibility);
        var fallback = compatibility.Assets.Where(a => a.MissingSensors.Count > 0).ToList();
        var deciding = compatibility.Assets.Count - fallback.Count;
        if (fallback.Count == 0 && compatibility.SitesWithoutAssets.Count == 0)
        {
            return null;
        }

        if (compatibility.AllowPartial && (deciding > 0 || compatibility.UncheckedSites.Count > 0))
        {
            return null;
        }

        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append(c, $"{record.ModelName}@{record.Version} reads sensors that the {record.AssetClass} assets of the target sites' gateways do not report");
        if (fallback.Count > 0)
        {
            text.Append(": ").AppendJoin("; ", fallback.Take(AssetsInDetail).Select(a => $"{a.SiteId}/{a.AssetId} lacks {string.Join(", ", a.MissingSensors)}"));
            if (fallback.Count > AssetsInDetail)
            {
                text.Append(c, $"; and {fallback.Count - AssetsInDetail} more assets");
            }
        }

        foreach (var site in compatibility.SitesWithoutAssets)
        {
            text.Append(c, $"; no gateway at {site} reports an asset of {record.AssetClass}");
        }

        text.Append(c, $". {deciding} of {compatibility.Assets.Count} assets could decide with it");
        text.Append(compatibility.AllowPartial
            ? ": nothing at the target sites would decide with it, so it is not deployed even with allowPartial"
            : "; allowPartial (pdm --allow-partial) deploys it anyway, the assets above keeping the rules");
        return text.ToString();
    }

    private static IReadOnlyList<PdM.Contracts.Edge.GatewayAssetClassInventory> Inventory(string heartbeatJson)
    {
        try
        {
            return JsonSerializer.Deserialize(heartbeatJson, ContractsJsonContext.Default.GatewayHeartbeat)?.Inventory ?? [];
        }
        catch (JsonException)
        {
            // A heartbeat the registry cannot read says nothing about the site's assets.
            return [];
        }
    }
}
