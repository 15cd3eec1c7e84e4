using Microsoft.EntityFrameworkCore;
using PdM.Registry.Persistence;

namespace PdM.Registry.Application;

/// <summary>
/// What the planners' recorded outcomes say of one decider (a model version or a ruleset version): of the work orders
/// it raised that were closed, how many confirmed a failure. Live precision = confirmed / (confirmed + no fault found);
/// null until the first outcome.
/// </summary>
public sealed record LivePerformance(string Path, string Name, string Version, int Outcomes, int FailuresConfirmed, int NoFaultFound)
{
    public const string ModelPath = "model";
    public const string RulesPath = "rules";

    public double? LivePrecision => Outcomes == 0 ? null : (double)FailuresConfirmed / Outcomes;

    internal static async Task<LivePerformance> ForAsync(RegistryDbContext db, string path, string name, string version, CancellationToken cancellationToken)
    {
        var confirmed = await db.Outcomes.AsNoTracking()
            .Where(o => o.Path == path && o.Name == name && o.Version == version)
            .GroupBy(o => o.FailureConfirmed)
            .Select(g => new { Confirmed = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);
        var yes = confirmed.Where(c => c.Confirmed).Sum(c => c.Count);
        var no = confirmed.Where(c => !c.Confirmed).Sum(c => c.Count);
        return new LivePerformance(path, name, version, yes + no, yes, no);
    }

    /// <summary>Every decider that has outcomes, most outcomes first.</summary>
    internal static async Task<List<LivePerformance>> AllAsync(RegistryDbContext db, CancellationToken cancellationToken)
    {
        var rows = await db.Outcomes.AsNoTracking()
            .GroupBy(o => new { o.Path, o.Name, o.Version })
            .Select(g => new { g.Key.Path, g.Key.Name, g.Key.Version, Outcomes = g.Count(), Confirmed = g.Count(o => o.FailureConfirmed) })
            .ToListAsync(cancellationToken);
        return rows
            .Select(r => new LivePerformance(r.Path, r.Name, r.Version, r.Outcomes, r.Confirmed, r.Outcomes - r.Confirmed))
            .OrderByDescending(r => r.Outcomes).ThenBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.Version, StringComparer.Ordinal)
            .ToList();
    }
}
