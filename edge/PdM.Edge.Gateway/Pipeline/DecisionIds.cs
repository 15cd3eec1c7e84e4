using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// The ids of what a decision causes, derived from the window it decided instead of drawn at random. A gateway that
/// dies after journaling a decision but before acknowledging the readings behind it gets them again from the broker
/// and decides the same window again (so does a shard's stand-in); with the same id, which is also the message id the
/// uplink publishes it under, the cloud's inboxes take the second one as the duplicate it is instead of folding the
/// same window into a work order twice (<c>GatewayKillInAlertsTests</c>).
/// <para>
/// UUIDv8 (RFC 9562): the first 48 bits are the window's end in Unix milliseconds, so ids sort by window time as the
/// random v7 ids they replace sorted by decision time; the other bits are SHA-256(kind ‖ window end ‖ site ‖ 0 ‖
/// asset). One id per kind, asset and window end: an asset is decided once per window.
/// </para>
/// </summary>
internal static class DecisionIds
{
    private const int StackLimit = 512;

    public static Guid Prediction(string siteId, string assetId, DateTimeOffset windowEnd) => Derive(1, siteId, assetId, windowEnd);

    public static Guid Assessment(string siteId, string assetId, DateTimeOffset windowEnd) => Derive(2, siteId, assetId, windowEnd);

    private static Guid Derive(byte kind, string siteId, string assetId, DateTimeOffset windowEnd)
    {
        var windowEndMs = windowEnd.ToUnixTimeMilliseconds();
        var length = 1 + 8 + Encoding.UTF8.GetByteCount(siteId) + 1 + Encoding.UTF8.GetByteCount(assetId);
        byte[]? rented = null;
        Span<byte> input = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            input[0] = kind;
            BinaryPrimitives.WriteInt64BigEndian(input[1..], windowEndMs);
            var written = 9 + Encoding.UTF8.GetBytes(siteId, input[9..]);
            // A separator no site id holds keeps ("ab", "c") and ("a", "bc") apart.
            input[written++] = 0;
            written += Encoding.UTF8.GetBytes(assetId, input[written..]);

            Span<byte> id = stackalloc byte[32];
            SHA256.HashData(input[..written], id);
            // 48 bits of window time first (big-endian, as in v7), then the version and variant over hash bits.
            var time = (ulong)Math.Max(0, windowEndMs);
            for (var i = 0; i < 6; i++)
            {
                id[i] = (byte)(time >> (8 * (5 - i)));
            }

            id[6] = (byte)((id[6] & 0x0F) | 0x80);
            id[8] = (byte)((id[8] & 0x3F) | 0x80);
            return new Guid(id[..16], bigEndian: true);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
