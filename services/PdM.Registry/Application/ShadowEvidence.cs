using Microsoft.EntityFrameworkCore;
using PdM.Registry.Persistence;

namespace PdM.Registry.Application;

/// <summary>Summed shadow statistics of one package digest.</summary>
public sealed record ShadowEvidence(int Reports, long ComparedRows, long AgreedRows, long CandidateFailedRows)
{
    public double AgreementRatio => ComparedRows == 0 ? 0 : (double)AgreedRows / ComparedRows;

    public double CandidateFailureRatio => ComparedRows + CandidateFailedRows == 0 ? 0 : (double)CandidateFailedRows / (ComparedRows + CandidateFailedRows);

    internal static async Task<ShadowEvidence> ForAsync(RegistryDbContext db, string digest, CancellationToken cancellationToken)
    {
        var rows = await db.ShadowEvaluations.Where(e => e.CandidateDigest == digest)
            .Select(e => new { e.ComparedRows, e.AgreedRows, e.CandidateFailedRows }).ToListAsync(cancellationToken);
        return new ShadowEvidence(rows.Count, rows.Sum(r => r.ComparedRows), rows.Sum(r => r.AgreedRows), rows.Sum(r => r.CandidateFailedRows));
    }
}
