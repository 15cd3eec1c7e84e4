using System.Buffers.Binary;
using System.Security.Cryptography;

namespace PdM.Edge.Journal;

internal static class MessageIds
{
    /// <summary>
    /// UUIDv8 (RFC 9562) from SHA-256(instance id ‖ journal id): the same entry always gets the same id, entries of
    /// a re-created journal (new instance id) never collide with those of the old one, and nothing extra is stored.
    /// </summary>
    public static Guid Derive(Guid instanceId, long id)
    {
        Span<byte> input = stackalloc byte[24];
        instanceId.TryWriteBytes(input[..16], bigEndian: true, out _);
        BinaryPrimitives.WriteInt64BigEndian(input[16..], id);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
