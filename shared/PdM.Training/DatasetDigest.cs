using System.Security.Cryptography;

namespace PdM.Training;

/// <summary>Dataset digests for provenance: sha256 of the exact input file bytes.</summary>
public static class DatasetDigest
{
    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The manifest form, <c>sha256:&lt;hex&gt;</c>.</summary>
    public static string ForManifest(string sha256Hex) => "sha256:" + sha256Hex;
}
