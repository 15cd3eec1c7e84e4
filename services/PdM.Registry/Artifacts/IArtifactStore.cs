namespace PdM.Registry.Artifacts;

/// <summary>A stored artifact: its SHA-256 address and size.</summary>
public sealed record ArtifactInfo(string Sha256, long Length, DateTimeOffset StoredAt);

/// <summary>
/// Content-addressed blob storage: an artifact's name is the SHA-256 of its bytes, so a stored artifact never changes
/// and a download can be checked against its name. The filesystem store is the default; an S3-compatible store
/// implements the same three calls (PUT to a temporary key, verify, copy to the hash key; HEAD; ranged GET).
/// </summary>
public interface IArtifactStore
{
    /// <summary>Stores the stream's bytes (idempotent: storing the same bytes twice keeps one copy) and returns the address.</summary>
    Task<ArtifactInfo> PutAsync(Stream content, CancellationToken cancellationToken);

    /// <summary>The artifact's metadata, or null when absent.</summary>
    Task<ArtifactInfo?> FindAsync(string sha256, CancellationToken cancellationToken);

    /// <summary>A seekable read stream (range requests seek in it), or null when absent. The caller disposes it.</summary>
    Task<Stream?> OpenReadAsync(string sha256, CancellationToken cancellationToken);
}

public static class ArtifactAddress
{
    /// <summary>True for 64 lower-case hex characters: anything else is never a path component.</summary>
    public static bool IsValid(string? sha256)
    {
        if (sha256 is null || sha256.Length != 64)
        {
            return false;
        }

        foreach (var c in sha256)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }
}
