using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PdM.Contracts;
using PdM.Registry.Persistence;

namespace PdM.Registry.Application;

/// <summary>
/// The latest drift a gateway reported for a package digest (ModelDriftDetected): which feature, how far (PSI against
/// the gateway's threshold), every feature's PSI, where and when; <see cref="Reports"/> counts every report so far.
/// </summary>
public sealed record DriftReport(
    int Reports,
    string GatewayId,
    string? SiteId,
    string AssetClass,
    string Feature,
    double Psi,
    double Threshold,
    IReadOnlyDictionary<string, double> FeaturePsi,
    int WindowRows,
    DateTimeOffset OccurredAt)
{
    internal static async Task<DriftReport?> LatestAsync(RegistryDbContext db, string digest, CancellationToken cancellationToken)
    {
        var reports = db.Drift.AsNoTracking().Where(d => d.ModelDigest == digest);
        var latest = await reports.OrderByDescending(d => d.OccurredAt).ThenByDescending(d => d.ReceivedAt).FirstOrDefaultAsync(cancellationToken);
        if (latest is null)
        {
            return null;
        }

        var featurePsi = JsonSerializer.Deserialize(latest.FeaturePsi, ContractsJsonContext.Default.IReadOnlyDictionaryStringDouble) ?? new Dictionary<string, double>();
        return new DriftReport(await reports.CountAsync(cancellationToken), latest.GatewayId, latest.SiteId, latest.AssetClass, latest.Feature,
            latest.Psi, latest.Threshold, featurePsi, latest.WindowRows, latest.OccurredAt);
    }
}
