using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using PdM.ModelPackage;

namespace PdM.Edge.Inference;

/// <summary>A package file in the store, identified by what its manifest says.</summary>
public sealed record StoredPackage(string AssetClass, string Name, SemanticVersion Version, string Path);

/// <summary>
/// Which stored package holds which role in an asset class, as deployed by the registry: file names inside the
/// class folder (<see cref="Production"/>) or its <c>candidates</c> folder (<see cref="Canary"/>, <see cref="Shadow"/>).
/// </summary>
public sealed record StoreDeploymentState
{
    public string? Production { get; init; }

    public string? Canary { get; init; }

    public double? CanaryShare { get; init; }

    public string? Shadow { get; init; }
}

/// <summary>
/// What the registry said about a stored package: the digest it named and, for approved stages, its signature and key
/// id. Kept beside the package (<c>{package}.registry.json</c>) so every load can check the bytes against it.
/// </summary>
public sealed record StoredPackageRecord
{
    public required string PackageDigest { get; init; }

    public string? Signature { get; init; }

    public string? SigningKeyId { get; init; }
}

/// <summary>
/// The gateway's local model folder: <c>{root}/{assetClass}/{name}@{version}.zip</c>. Installing copies a package
/// (directory or zip) in as a zip, named from its own manifest; the store survives restarts and link outages,
/// and is where the previous version comes from after a restart. Canary and shadow packages live apart, in
/// <c>{root}/{assetClass}/candidates/</c>, so a candidate is never mistaken for a production version; and
/// <c>{root}/{assetClass}/deployment.json</c> remembers which package the registry last made production (which
/// need not be the newest version), canary (with its share) and shadow.
/// </summary>
public sealed partial class LocalModelStore
{
    public LocalModelStore(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = root;
        Directory.CreateDirectory(root);
    }

    public string Root { get; }

    public const string CandidatesFolder = "candidates";
    public const string StateFileName = "deployment.json";

    /// <summary>Suffix of the file beside each package holding its <see cref="StoredPackageRecord"/>.</summary>
    public const string RecordSuffix = ".registry.json";

    /// <summary>Writes the registry's record of a stored package beside it (atomically: temporary file, then rename).</summary>
    public static void WriteRecord(string packagePath, StoredPackageRecord record)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(packagePath);
        ArgumentNullException.ThrowIfNull(record);
        var file = packagePath + RecordSuffix;
        var temporary = file + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(record, StoreJsonContext.Default.StoredPackageRecord));
        File.Move(temporary, file, overwrite: true);
    }

    /// <summary>The registry's record of a stored package; null when there is none or it cannot be read.</summary>
    public static StoredPackageRecord? ReadRecord(string packagePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(packagePath);
        var file = packagePath + RecordSuffix;
        try
        {
            return File.Exists(file) ? JsonSerializer.Deserialize(File.ReadAllBytes(file), StoreJsonContext.Default.StoredPackageRecord) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Copies a package into the store. Returns the stored entry, or the reason it cannot be stored.</summary>
    public (StoredPackage? Package, PackageRejection? Rejection) Install(string packagePath, ModelPackageLimits? limits = null) =>
        InstallInto(packagePath, limits, candidate: false);

    /// <summary>Copies a canary or shadow package into the class's <c>candidates</c> folder (never loaded as production).</summary>
    public (StoredPackage? Package, PackageRejection? Rejection) InstallCandidate(string packagePath, ModelPackageLimits? limits = null) =>
        InstallInto(packagePath, limits, candidate: true);

    /// <summary>The roles last deployed in the class; empty when the registry never deployed to it.</summary>
    public StoreDeploymentState ReadState(string assetClass)
    {
        var file = StatePath(assetClass);
        if (file is null || !File.Exists(file))
        {
            return new StoreDeploymentState();
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(file), StoreJsonContext.Default.StoreDeploymentState) ?? new StoreDeploymentState();
        }
        catch (JsonException)
        {
            // A damaged state file must not keep the gateway from starting: fall back to the newest version.
            return new StoreDeploymentState();
        }
    }

    /// <summary>Writes the roles atomically (temporary file, then rename).</summary>
    public void WriteState(string assetClass, StoreDeploymentState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var file = StatePath(assetClass) ?? throw new ArgumentException("not a valid asset class name: " + assetClass, nameof(assetClass));
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var temporary = file + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(state, StoreJsonContext.Default.StoreDeploymentState));
        File.Move(temporary, file, overwrite: true);
    }

    /// <summary>The full path of a production package named in the state, if it is still there.</summary>
    public string? ProductionPath(string assetClass, string? fileName) => Existing(Path.Combine(Root, assetClass), fileName);

    /// <summary>The full path of a candidate package named in the state, if it is still there.</summary>
    public string? CandidatePath(string assetClass, string? fileName) => Existing(Path.Combine(Root, assetClass, CandidatesFolder), fileName);

    private (StoredPackage? Package, PackageRejection? Rejection) InstallInto(string packagePath, ModelPackageLimits? limits, bool candidate)
    {
        var (files, rejection) = ModelPackageFiles.Read(packagePath, limits ?? new ModelPackageLimits());
        if (files is null)
        {
            return (null, rejection);
        }

        string assetClass, name, versionText;
        try
        {
            using var manifest = JsonDocument.Parse(files.Manifest);
            assetClass = manifest.RootElement.GetProperty("assetClass").GetString() ?? string.Empty;
            name = manifest.RootElement.GetProperty("name").GetString() ?? string.Empty;
            versionText = manifest.RootElement.GetProperty("version").GetString() ?? string.Empty;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return (null, new PackageRejection(PackageRejectionReason.ManifestInvalid, "manifest has no readable assetClass/name/version: " + ex.Message));
        }

        // The names become file names: refuse anything that could walk out of the store.
        if (!SafeName().IsMatch(assetClass) || !SafeName().IsMatch(name) || !SemanticVersion.TryParse(versionText, out var version))
        {
            return (null, new PackageRejection(PackageRejectionReason.ManifestInvalid,
                "assetClass and name must match [A-Za-z0-9._-]+ and version must be semantic: '" + assetClass + "', '" + name + "', '" + versionText + "'"));
        }

        var folder = candidate ? Path.Combine(Root, assetClass, CandidatesFolder) : Path.Combine(Root, assetClass);
        Directory.CreateDirectory(folder);
        var target = Path.Combine(folder, name + "@" + version + ".zip");
        var temporary = target + ".tmp";
        if (Directory.Exists(packagePath))
        {
            File.Delete(temporary);
            ModelPackageFiles.WriteZip(packagePath, temporary);
        }
        else
        {
            File.Copy(packagePath, temporary, overwrite: true);
        }

        // Rename last, so a crash never leaves a half-written package under a real name.
        File.Move(temporary, target, overwrite: true);
        return (new StoredPackage(assetClass, name, version, target), null);
    }

    public IReadOnlyList<string> AssetClasses()
    {
        var classes = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories(Root))
        {
            // Skips the store's own folders (downloads, bookkeeping), which start with a dot.
            var name = Path.GetFileName(directory);
            if (SafeName().IsMatch(name))
            {
                classes.Add(name);
            }
        }

        classes.Sort(StringComparer.Ordinal);
        return classes;
    }

    /// <summary>The packages of one asset class, newest version first.</summary>
    public IReadOnlyList<StoredPackage> List(string assetClass)
    {
        var folder = Path.Combine(Root, assetClass);
        var packages = new List<StoredPackage>();
        if (!SafeName().IsMatch(assetClass) || !Directory.Exists(folder))
        {
            return packages;
        }

        foreach (var file in Directory.EnumerateFiles(folder, "*.zip"))
        {
            var stem = Path.GetFileNameWithoutExtension(file);
            var at = stem.LastIndexOf('@');
            if (at > 0 && SemanticVersion.TryParse(stem[(at + 1)..], out var version))
            {
                packages.Add(new StoredPackage(assetClass, stem[..at], version, file));
            }
        }

        packages.Sort(static (a, b) => b.Version.CompareTo(a.Version));
        return packages;
    }

    private string? StatePath(string assetClass) => SafeName().IsMatch(assetClass) ? Path.Combine(Root, assetClass, StateFileName) : null;

    private static string? Existing(string folder, string? fileName)
    {
        if (fileName is null || fileName.Length == 0 || fileName != Path.GetFileName(fileName))
        {
            return null;
        }

        var path = Path.Combine(folder, fileName);
        return File.Exists(path) ? path : null;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex SafeName();
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(StoreDeploymentState))]
[JsonSerializable(typeof(StoredPackageRecord))]
internal sealed partial class StoreJsonContext : JsonSerializerContext;
