using System.Security.Cryptography;
using System.Text;

namespace PdM.Maintenance.Cmms;

/// <summary>
/// The reference a CMMS keeps for our work order, fitted to the field its vendor publishes for it: SAP's
/// <c>MaintNotifExtReferenceNumber</c> is <c>String(20)</c> shown upper case, Maximo's <c>externalrefid</c> /
/// <c>externalrecid</c> hold 10 characters. Our external key (<c>pdm:site:asset:mode:id</c>) is longer, so the reference
/// is derived from it: the first characters of the upper-case Crockford base32 of its SHA-256. Deterministic, so every
/// retry, crash recovery and operator retry looks up the same value and finds the first record instead of making a
/// second; upper case, so a CMMS that upper-cases the field on input still finds it by the value we sent.
/// </summary>
public static class CmmsReference
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// <summary><paramref name="length"/> characters (at most 51) identifying <paramref name="externalKey"/>.</summary>
    public static string Derive(string externalKey, int length)
    {
        ArgumentException.ThrowIfNullOrEmpty(externalKey);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 8);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, 51);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(externalKey), hash);
        return string.Create(length, hash.ToArray(), static (chars, bytes) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                // Five bits per character, read across byte boundaries.
                var bit = i * 5;
                var value = (bytes[bit / 8] << 8 | (bit / 8 + 1 < bytes.Length ? bytes[bit / 8 + 1] : 0)) >> (11 - bit % 8) & 0x1F;
                chars[i] = Alphabet[value];
            }
        });
    }
}
