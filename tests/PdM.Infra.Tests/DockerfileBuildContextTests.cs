using System.Text.RegularExpressions;
using System.Xml.Linq;
using PdM.Testing;

namespace PdM.Infra.Tests;

/// <summary>
/// There is no Docker engine on build machines, so `docker build` never runs here. What can be checked is what broke
/// it: the build stage publishes three projects from the files its COPY lines bring in, and a project that reaches
/// outside them (a project reference, a linked data file) fails there and only there. The simulator's
/// <c>datasets/cmapss/test_FD001.txt</c> did: the image could not be built. This walks the published projects and
/// their project references, as MSBuild would, and finds every file they name outside their own folder.
/// </summary>
public sealed partial class DockerfileBuildContextTests
{
    private static readonly string Root = Path.TrimEndingDirectorySeparator(LocalDependencies.RepositoryRoot);

    [Fact]
    public void Every_file_the_published_projects_reference_is_copied_into_the_build_stage()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Root, "infra", "docker", "Dockerfile"));
        var buildStage = dockerfile[..dockerfile.IndexOf("\nFROM ", dockerfile.IndexOf("FROM ", StringComparison.Ordinal), StringComparison.Ordinal)];
        var copied = CopyLine().Matches(buildStage)
            .SelectMany(m => m.Groups["sources"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToList();
        var published = PublishLine().Matches(buildStage).Select(m => m.Groups["project"].Value).ToList();
        Assert.Equal(3, published.Count);

        var referenced = new SortedSet<string>(StringComparer.Ordinal);
        var visited = new HashSet<string>(StringComparer.Ordinal);
        foreach (var project in published)
        {
            CollectReferences(project, referenced, visited);
        }

        Assert.Contains("datasets/cmapss/test_FD001.txt", referenced);
        var missing = referenced.Where(path => !copied.Any(source => IsCopied(path, source))).ToList();
        Assert.True(missing.Count == 0, "the Dockerfile's build stage does not COPY what the published projects use: " + string.Join(", ", missing));
    }

    private static void CollectReferences(string project, SortedSet<string> referenced, HashSet<string> visited)
    {
        if (!visited.Add(project))
        {
            return;
        }

        referenced.Add(project);
        var directory = Path.GetDirectoryName(Path.Combine(Root, project))!;
        foreach (var include in XDocument.Load(Path.Combine(Root, project)).Descendants().Select(e => e.Attribute("Include")?.Value))
        {
            if (include is null || !include.Contains("..", StringComparison.Ordinal))
            {
                continue;
            }

            // Up to the first wildcard: a glob's files are copied when its folder is.
            var path = include.Replace('\\', '/');
            var wildcard = path.IndexOfAny(['*', '?']);
            var full = Path.GetFullPath(Path.Combine(directory, wildcard < 0 ? path : path[..wildcard]));
            var relative = Path.GetRelativePath(Root, full).Replace('\\', '/');
            if (relative.EndsWith(".csproj", StringComparison.Ordinal))
            {
                CollectReferences(relative, referenced, visited);
            }
            else
            {
                referenced.Add(relative);
            }
        }
    }

    private static bool IsCopied(string path, string source) =>
        source.EndsWith('/') ? path.StartsWith(source, StringComparison.Ordinal) : path == source;

    [GeneratedRegex(@"^COPY (?!--from)(?<sources>.+) \S+$", RegexOptions.Multiline)]
    private static partial Regex CopyLine();

    [GeneratedRegex(@"dotnet publish (?<project>\S+\.csproj)")]
    private static partial Regex PublishLine();
}
