using Microsoft.EntityFrameworkCore;
using PdM.ModelPackage.Cards;
using PdM.Registry.Persistence;

namespace PdM.Registry.Application;

/// <summary>Summed shadow statistics of one package digest (at one site, for the promotion gate).</summary>
public sealed record ShadowEvidence(int Reports, long ComparedRows, long AgreedRows, long CandidateFailedRows)
{
    public double AgreementRatio => ComparedRows == 0 ? 0 : (double)AgreedRows / ComparedRows;

    public double CandidateFailureRatio => ComparedRows + CandidateFailedRows == 0 ? 0 : (double)CandidateFailedRows / (ComparedRows + CandidateFailedRows);

    internal static async Task<ShadowEvidence> ForAsync(RegistryDbContext db, string digest, CancellationToken cancellationToken) =>
        Sum(await db.ShadowEvaluations.Where(e => e.CandidateDigest == digest)
            .Select(e => new Row(e.ComparedRows, e.AgreedRows, e.CandidateFailedRows)).ToListAsync(cancellationToken));

    /// <summary>The evidence the gateways of <paramref name="siteId"/> reported: another site's shadow says nothing about this one's assets.</summary>
    internal static async Task<ShadowEvidence> ForAsync(RegistryDbContext db, string digest, string siteId, CancellationToken cancellationToken) =>
        Sum(await db.ShadowEvaluations.Where(e => e.CandidateDigest == digest && e.SiteId == siteId)
            .Select(e => new Row(e.ComparedRows, e.AgreedRows, e.CandidateFailedRows)).ToListAsync(cancellationToken));

    /// <summary>Every report about the digest, oldest first: the model card's agreement over time.</summary>
    internal static async Task<IReadOnlyList<ShadowAgreementPoint>> OverTimeAsync(RegistryDbContext db, string digest, CancellationToken cancellationToken) =>
        await db.ShadowEvaluations.AsNoTracking().Where(e => e.CandidateDigest == digest).OrderBy(e => e.PeriodEnd)
            .Select(e => new ShadowAgreementPoint(e.PeriodEnd, e.SiteId, e.ComparedRows, e.AgreedRows)).ToListAsync(cancellationToken);

    private sealed record Row(long ComparedRows, long AgreedRows, long CandidateFailedRows);

    private static ShadowEvidence Sum(List<Row> rows) =>
        new(rows.Count, rows.Sum(r => r.ComparedRows), rows.Sum(r => r.AgreedRows), rows.Sum(r => r.CandidateFailedRows));
}
