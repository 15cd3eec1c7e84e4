using System.Security.Cryptography;

namespace PdM.Registry.Artifacts;

/// <summary>
/// Artifacts as files <c>{root}/{sha[0..2]}/{sha}</c>. A put streams into a temporary file while hashing, flushes it to
/// disk and renames it into place, so a reader never sees a half-written artifact under its address.
/// </summary>
public sealed class FileSystemArtifactStore : IArtifactStore
{
    private readonly string _root;

    public FileSystemArtifactStore(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    public async Task<ArtifactInfo> PutAsync(Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var temp = Path.Combine(_root, ".incoming-" + Guid.NewGuid().ToString("N"));
        try
        {
            string sha;
            long length;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[81920];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }

                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
                length = file.Length;
                sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            }

            var target = PathOf(sha);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (File.Exists(target))
            {
                File.Delete(temp);
            }
            else
            {
                File.Move(temp, target, overwrite: true);
            }

            return new ArtifactInfo(sha, length, File.GetLastWriteTimeUtc(target));
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    public Task<ArtifactInfo?> FindAsync(string sha256, CancellationToken cancellationToken)
    {
        if (!ArtifactAddress.IsValid(sha256))
        {
            return Task.FromResult<ArtifactInfo?>(null);
        }

        var file = new FileInfo(PathOf(sha256));
        return Task.FromResult(file.Exists ? new ArtifactInfo(sha256, file.Length, file.LastWriteTimeUtc) : null);
    }

    public Task<Stream?> OpenReadAsync(string sha256, CancellationToken cancellationToken)
    {
        if (!ArtifactAddress.IsValid(sha256) || !File.Exists(PathOf(sha256)))
        {
            return Task.FromResult<Stream?>(null);
        }

        return Task.FromResult<Stream?>(new FileStream(PathOf(sha256), FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous));
    }

    private string PathOf(string sha256) => Path.Combine(_root, sha256[..2], sha256);
}
