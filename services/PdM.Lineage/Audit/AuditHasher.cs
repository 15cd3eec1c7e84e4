using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PdM.Lineage.Persistence;

namespace PdM.Lineage.Audit;

/// <summary>
/// The chain's hash: SHA-256(previous hash (32 raw bytes) ‖ canonical content). The canonical content is
/// <c>"pdm-audit/1\n"</c> followed by every field as <c>{UTF-8 byte length}:{value}\n</c> (null as <c>-1:\n</c>) in a
/// fixed order — sequence, occurred at, recorded at (ISO 8601 UTC, microseconds: PostgreSQL's precision), actor,
/// action, subject, before digest, after digest, detail, source message id — so no two different rows share content.
/// </summary>
public static class AuditHasher
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    public static string Compute(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var content = new StringBuilder(256 + entry.Detail.Length);
        content.Append("pdm-audit/1\n");
        Field(content, entry.Sequence.ToString(CultureInfo.InvariantCulture));
        Field(content, Timestamp(entry.OccurredAt));
        Field(content, Timestamp(entry.RecordedAt));
        Field(content, entry.Actor);
        Field(content, entry.Action);
        Field(content, entry.Subject);
        Field(content, entry.BeforeDigest);
        Field(content, entry.AfterDigest);
        Field(content, entry.Detail);
        Field(content, entry.SourceMessageId?.ToString("D"));

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Convert.FromHexString(entry.PreviousHash));
        sha.AppendData(Encoding.UTF8.GetBytes(content.ToString()));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Truncates to whole microseconds, the precision PostgreSQL stores, so what is hashed is what is read back.</summary>
    public static DateTimeOffset ToStoredPrecision(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % 10), TimeSpan.Zero);
    }

    private static string Timestamp(DateTimeOffset value) =>
        value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static void Field(StringBuilder content, string? value)
    {
        if (value is null)
        {
            content.Append("-1:\n");
            return;
        }

        content.Append(Encoding.UTF8.GetByteCount(value).ToString(CultureInfo.InvariantCulture)).Append(':').Append(value).Append('\n');
    }
}
