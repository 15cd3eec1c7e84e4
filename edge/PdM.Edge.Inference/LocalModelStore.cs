using System.Text.Json;
using System.Text.RegularExpressions;
using PdM.ModelPackage;

namespace PdM.Edge.Inference;

/// <summary>A package file in the store, identified by what its manifest says.</summary>
public sealed record StoredPackage(string AssetClass, string Name, SemanticVersion Version, string Path);

/// <summary>
/// The gateway's local model folder: <c>{root}/{assetClass}/{name}@{version}.zip</c>. Installing copies a package
/// (directory or zip) in as a zip, named from its own manifest; the store survives restarts and link outages,
/// and is where the previous version comes from after a restart.
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

    /// <summary>Copies a package into the store. Returns the stored entry, or the reason it cannot be stored.</summary>
    public (StoredPackage? Package, PackageRejection? Rejection) Install(string packagePath, ModelPackageLimits? limits = null)
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

        var folder = Path.Combine(Root, assetClass);
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
            classes.Add(Path.GetFileName(directory));
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

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex SafeName();
}
