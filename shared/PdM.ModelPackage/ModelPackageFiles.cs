using System.Globalization;
using System.IO.Compression;

namespace PdM.ModelPackage;

/// <summary>The two files of a package, read into memory with size limits (from a directory or a zip).</summary>
public sealed class ModelPackageFiles
{
    public const string ModelFileName = "model.onnx";
    public const string ManifestFileName = "manifest.json";

    private ModelPackageFiles(byte[] model, byte[] manifest)
    {
        Model = model;
        Manifest = manifest;
    }

    public byte[] Model { get; }

    public byte[] Manifest { get; }

    /// <summary>Reads a package directory or zip file; never throws for a bad package.</summary>
    public static (ModelPackageFiles? Files, PackageRejection? Rejection) Read(string path, ModelPackageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(limits);
        try
        {
            if (Directory.Exists(path))
            {
                return ReadDirectory(path, limits);
            }

            if (File.Exists(path))
            {
                return ReadZip(path, limits);
            }

            return (null, new PackageRejection(PackageRejectionReason.NotFound, "no package directory or zip file at " + path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return (null, new PackageRejection(PackageRejectionReason.Unreadable, ex.GetType().Name + ": " + ex.Message));
        }
    }

    /// <summary>Writes a package as a zip (the form that travels) with exactly the two entries.</summary>
    public static void WriteZip(string packageDirectory, string zipPath)
    {
        ArgumentNullException.ThrowIfNull(packageDirectory);
        ArgumentNullException.ThrowIfNull(zipPath);
        using var zip = ZipFile.Open(zipPath, ZipArchiveMode.Create);
        zip.CreateEntryFromFile(Path.Combine(packageDirectory, ModelFileName), ModelFileName, CompressionLevel.Optimal);
        zip.CreateEntryFromFile(Path.Combine(packageDirectory, ManifestFileName), ManifestFileName, CompressionLevel.Optimal);
    }

    private static (ModelPackageFiles?, PackageRejection?) ReadDirectory(string path, ModelPackageLimits limits)
    {
        var model = new FileInfo(Path.Combine(path, ModelFileName));
        var manifest = new FileInfo(Path.Combine(path, ManifestFileName));
        if (!model.Exists || !manifest.Exists)
        {
            return (null, Missing(model.Exists ? ManifestFileName : ModelFileName));
        }

        if (TooLarge(ModelFileName, model.Length, limits.MaxModelBytes) is { } tooLargeModel)
        {
            return (null, tooLargeModel);
        }

        if (TooLarge(ManifestFileName, manifest.Length, limits.MaxManifestBytes) is { } tooLargeManifest)
        {
            return (null, tooLargeManifest);
        }

        return (new ModelPackageFiles(File.ReadAllBytes(model.FullName), File.ReadAllBytes(manifest.FullName)), null);
    }

    private static (ModelPackageFiles?, PackageRejection?) ReadZip(string path, ModelPackageLimits limits)
    {
        using var zip = ZipFile.OpenRead(path);
        var model = zip.GetEntry(ModelFileName);
        var manifest = zip.GetEntry(ManifestFileName);
        if (model is null || manifest is null)
        {
            return (null, Missing(model is null ? ModelFileName : ManifestFileName));
        }

        var (modelBytes, modelRejection) = ReadEntry(model, limits.MaxModelBytes);
        if (modelRejection is not null)
        {
            return (null, modelRejection);
        }

        var (manifestBytes, manifestRejection) = ReadEntry(manifest, limits.MaxManifestBytes);
        return manifestRejection is not null ? (null, manifestRejection) : (new ModelPackageFiles(modelBytes!, manifestBytes!), null);
    }

    private static (byte[]?, PackageRejection?) ReadEntry(ZipArchiveEntry entry, long limit)
    {
        if (TooLarge(entry.FullName, entry.Length, limit) is { } declared)
        {
            return (null, declared);
        }

        // The declared size comes from the archive itself: read at most limit + 1 bytes so a lying entry cannot inflate.
        using var stream = entry.Open();
        using var buffer = new MemoryStream((int)Math.Min(entry.Length, limit));
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                return (null, TooLarge(entry.FullName, buffer.Length, limit));
            }
        }

        return (buffer.ToArray(), null);
    }

    private static PackageRejection Missing(string name) =>
        new(PackageRejectionReason.MissingEntry, name + " is missing from the package");

    private static PackageRejection? TooLarge(string name, long length, long limit) => length > limit
        ? new PackageRejection(PackageRejectionReason.TooLarge,
            string.Create(CultureInfo.InvariantCulture, $"{name} is {length} bytes; the limit is {limit} bytes"))
        : null;
}

/// <summary>Size limits applied before anything is parsed.</summary>
public sealed record ModelPackageLimits
{
    public long MaxModelBytes { get; init; } = 64L * 1024 * 1024;

    public long MaxManifestBytes { get; init; } = 1024 * 1024;
}
