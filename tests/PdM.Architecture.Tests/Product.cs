namespace PdM.Architecture.Tests;

/// <summary>
/// Every project under edge/, services/, shared/ and tools/, found on disk (not listed by hand, so a new project is
/// under the rules the day it is added), and the roles the design gives them.
/// </summary>
internal static class Product
{
    private static readonly Lazy<string> Root = new(FindRepositoryRoot);
    private static readonly Lazy<IReadOnlyList<ProductProject>> AllProjects = new(LoadProjects);

    public static readonly string[] Areas = ["edge", "services", "shared", "tools"];

    public static string RepositoryRoot => Root.Value;

    public static IReadOnlyList<ProductProject> Projects => AllProjects.Value;

    /// <summary>Cloud modules: the class libraries under services/ (the executables there compose them).</summary>
    public static IEnumerable<ProductProject> Modules => Projects.Where(p => p.Area == "services" && !p.IsExecutable);

    /// <summary>Everything with an entry point: PdM.Host, the gateway, the simulator, the CMMS stubs, the CLI.</summary>
    public static IEnumerable<ProductProject> Executables => Projects.Where(p => p.IsExecutable);

    public static IEnumerable<ProductProject> Libraries => Projects.Where(p => !p.IsExecutable);

    public static IEnumerable<ProductProject> Edge => Projects.Where(p => p.Area == "edge");

    public static ProductProject Get(string name) =>
        Projects.SingleOrDefault(p => p.Name == name) ?? throw new InvalidOperationException($"no product project named {name}");

    public static bool IsProductAssembly(string assemblyName) => Projects.Any(p => p.AssemblyName == assemblyName);

    /// <summary>
    /// The assemblies a project's compiled code references, followed through every product assembly it references,
    /// each with the product assembly whose code holds the reference ("PdM.Rules -> RulesEngine").
    /// </summary>
    public static IReadOnlyList<(string From, string To)> CompiledReferencesReachable(ProductProject project)
    {
        var found = new List<(string, string)>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<ProductProject>([project]);
        while (pending.TryDequeue(out var current))
        {
            if (!visited.Add(current.AssemblyName))
            {
                continue;
            }

            foreach (var reference in current.ReferencedAssemblies)
            {
                found.Add((current.AssemblyName, reference));
                var next = Projects.FirstOrDefault(p => p.AssemblyName == reference);
                if (next is not null)
                {
                    pending.Enqueue(next);
                }
            }
        }

        return found;
    }

    /// <summary>
    /// How <paramref name="project"/> reaches any of <paramref name="targets"/>: as a project it carries (directly or
    /// through another project) or as an assembly its compiled code, or that of a product assembly it uses, references.
    /// </summary>
    public static IReadOnlyList<string> ReferencesTo(ProductProject project, IEnumerable<ProductProject> targets)
    {
        var forbidden = targets.ToArray();
        var byProject = project.ProjectsCarried
            .Where(p => forbidden.Any(f => f.Name == p))
            .Select(p => $"{project.Name} -> {p} (project reference)");
        var byCode = CompiledReferencesReachable(project)
            .Where(r => forbidden.Any(f => f.AssemblyName == r.To))
            .Select(r => $"{r.From} -> {r.To} (compiled reference)");
        return [.. byProject.Concat(byCode).Distinct()];
    }

    /// <summary>Packages <paramref name="project"/> carries, and assemblies its code reaches, named with one of <paramref name="prefixes"/>.</summary>
    public static IReadOnlyList<string> PackagesAndAssembliesNamed(ProductProject project, IReadOnlyList<string> prefixes)
    {
        bool Matches(string name) => prefixes.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
        var packages = project.PackagesCarried.Where(Matches).Select(p => $"{project.Name} carries package {p}");
        var assemblies = CompiledReferencesReachable(project).Where(r => Matches(r.To)).Select(r => $"{r.From} -> {r.To} (compiled reference)");
        return [.. packages.Concat(assemblies).Distinct()];
    }

    /// <summary>
    /// Shared frameworks beyond the base runtime (Microsoft.NETCore.App) that <paramref name="project"/> or any product
    /// project it carries names: each makes every program using the project need that runtime installed.
    /// </summary>
    public static IReadOnlyList<string> FrameworksBeyondBaseRuntime(ProductProject project) =>
        [.. Projects.Where(p => project.ProjectsCarried.Contains(p.Name)).Prepend(project)
            .SelectMany(p => p.Frameworks.Where(f => f != "Microsoft.NETCore.App").Select(f => $"{p.Name} names framework {f}"))];

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PdM.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"PdM.sln not found above {AppContext.BaseDirectory}");
    }

    private static ProductProject[] LoadProjects() =>
        Areas.SelectMany(area => Directory.EnumerateFiles(Path.Combine(RepositoryRoot, area), "*.csproj", SearchOption.AllDirectories))
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(file => ProductProject.Load(RepositoryRoot, file))
            .ToArray();
}
