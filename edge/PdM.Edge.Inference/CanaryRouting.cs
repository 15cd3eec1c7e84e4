namespace PdM.Edge.Inference;

/// <summary>
/// Which assets a canary drives: each asset id hashes (FNV-1a over its UTF-16 code units) to one of
/// <see cref="Buckets"/> buckets, and a canary with share s drives the assets whose bucket is below s·Buckets.
/// The hash is stable across processes and restarts (unlike <see cref="string.GetHashCode()"/>), so an asset never
/// flips between versions while the share stays the same, and raising the share only adds assets.
/// </summary>
public static class CanaryRouting
{
    public const int Buckets = 10_000;

    /// <summary>The asset's bucket, 0..<see cref="Buckets"/>-1; allocation-free.</summary>
    public static int Bucket(string assetId)
    {
        ArgumentNullException.ThrowIfNull(assetId);
        var hash = 2166136261u;
        foreach (var c in assetId)
        {
            hash = (hash ^ (c & 0xFFu)) * 16777619u;
            hash = (hash ^ ((uint)c >> 8)) * 16777619u;
        }

        return (int)(hash % Buckets);
    }

    /// <summary>How many buckets a share (0..1) covers.</summary>
    public static int BucketsFor(double share) => (int)Math.Round(Math.Clamp(share, 0, 1) * Buckets, MidpointRounding.AwayFromZero);

    /// <summary>True when a canary with this share decides for the asset.</summary>
    public static bool RoutesToCanary(string assetId, double share) => Bucket(assetId) < BucketsFor(share);
}
