using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using System.Xml.Linq;

namespace PdM.Architecture.Tests;

/// <summary>
/// One project of the product (edge/, services/, shared/, tools/) seen three ways, because each catches a different
/// mistake: what its csproj says (direct project references), what NuGet resolved for it (obj/project.assets.json:
/// every package and project it carries, transitively), and what its compiled assembly references.
/// </summary>
internal sealed class ProductProject
{
    private ProductProject(string name, string area, string projectFile, string assemblyName, bool isExecutable,
        IReadOnlyList<string> projectReferences, ResolvedDependencies resolved, IReadOnlyList<string> referencedAssemblies)
    {
        Name = name;
        Area = area;
        ProjectFile = projectFile;
        AssemblyName = assemblyName;
        IsExecutable = isExecutable;
        ProjectReferences = projectReferences;
        ProjectsCarried = resolved.Projects;
        PackagesCarried = resolved.Packages;
        Frameworks = resolved.Frameworks;
        ReferencedAssemblies = referencedAssemblies;
    }

    /// <summary>The csproj file name without extension (PdM.Edge.Gateway).</summary>
    public string Name { get; }

    /// <summary>The top folder: edge, services, shared or tools.</summary>
    public string Area { get; }

    public string ProjectFile { get; }

    public string AssemblyName { get; }

    /// <summary>Has an entry point: a host, the gateway, a stub server, the CLI.</summary>
    public bool IsExecutable { get; }

    /// <summary>Project names its csproj references directly.</summary>
    public IReadOnlyList<string> ProjectReferences { get; }

    /// <summary>Every project it depends on, directly or through another project (as NuGet resolved them).</summary>
    public IReadOnlySet<string> ProjectsCarried { get; }

    /// <summary>Every package it depends on, directly or transitively (PrivateAssets of referenced projects excluded).</summary>
    public IReadOnlySet<string> PackagesCarried { get; }

    /// <summary>The shared frameworks it names itself (Microsoft.NETCore.App always, Microsoft.AspNetCore.App where asked).</summary>
    public IReadOnlySet<string> Frameworks { get; }

    /// <summary>Assembly names its compiled assembly references.</summary>
    public IReadOnlyList<string> ReferencedAssemblies { get; }

    public string AssemblyPath => Path.Combine(AppContext.BaseDirectory, AssemblyName + ".dll");

    public override string ToString() => Name;

    public static ProductProject Load(string repositoryRoot, string projectFile)
    {
        var name = Path.GetFileNameWithoutExtension(projectFile);
        var area = Path.GetRelativePath(repositoryRoot, projectFile).Split(Path.DirectorySeparatorChar)[0];
        var csproj = XDocument.Load(projectFile);
        var assemblyName = csproj.Descendants("AssemblyName").Select(e => e.Value.Trim()).LastOrDefault() ?? name;
        var projectReferences = csproj.Descendants("ProjectReference")
            .Select(e => Path.GetFileNameWithoutExtension(e.Attribute("Include")!.Value.Replace('\\', Path.DirectorySeparatorChar)))
            .Order(StringComparer.Ordinal)
            .ToArray();

        var resolved = ReadAssets(Path.Combine(Path.GetDirectoryName(projectFile)!, "obj", "project.assets.json"));

        var assemblyPath = Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll");
        if (!File.Exists(assemblyPath))
        {
            throw new InvalidOperationException(
                $"{assemblyPath} is missing: the architecture tests reference every product project by wildcard, so a build of this test project builds it.");
        }

        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var references = metadata.AssemblyReferences
            .Select(handle => metadata.GetString(metadata.GetAssemblyReference(handle).Name))
            .Order(StringComparer.Ordinal)
            .ToArray();
        var isExecutable = pe.PEHeaders.CorHeader!.EntryPointTokenOrRelativeVirtualAddress != 0;

        return new ProductProject(name, area, projectFile, assemblyName, isExecutable, projectReferences, resolved, references);
    }

    private static ResolvedDependencies ReadAssets(string assetsFile)
    {
        if (!File.Exists(assetsFile))
        {
            throw new InvalidOperationException($"{assetsFile} is missing: restore the solution first.");
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(assetsFile));
        var projects = new SortedSet<string>(StringComparer.Ordinal);
        var packages = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        // "libraries" is everything NuGet resolved for the project, transitively (one target framework for the product).
        foreach (var library in document.RootElement.GetProperty("libraries").EnumerateObject())
        {
            if (library.Value.GetProperty("type").GetString() == "project")
            {
                projects.Add(Path.GetFileNameWithoutExtension(library.Value.GetProperty("path").GetString()!));
            }
            else
            {
                packages.Add(library.Name[..library.Name.IndexOf('/', StringComparison.Ordinal)]);
            }
        }

        var frameworks = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var framework in document.RootElement.GetProperty("project").GetProperty("frameworks").EnumerateObject())
        {
            if (framework.Value.TryGetProperty("frameworkReferences", out var references))
            {
                frameworks.UnionWith(references.EnumerateObject().Select(r => r.Name));
            }
        }

        return new ResolvedDependencies(projects, packages, frameworks);
    }

    private sealed record ResolvedDependencies(IReadOnlySet<string> Projects, IReadOnlySet<string> Packages, IReadOnlySet<string> Frameworks);
}
