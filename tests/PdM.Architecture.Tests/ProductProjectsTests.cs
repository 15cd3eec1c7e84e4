namespace PdM.Architecture.Tests;

/// <summary>The rules see the whole product: every role they check is filled, so none passes by finding nothing.</summary>
public sealed class ProductProjectsTests
{
    [Fact]
    public void Every_role_the_rules_check_is_found()
    {
        Assert.Superset(new HashSet<string> { "PdM.Maintenance", "PdM.Telemetry", "PdM.Registry", "PdM.Lineage" },
            Product.Modules.Select(p => p.Name).ToHashSet());
        Assert.Superset(new HashSet<string> { "PdM.Host", "PdM.Edge.Gateway" }, Product.Executables.Select(p => p.Name).ToHashSet());
        Assert.Superset(new HashSet<string> { "PdM.Edge.Gateway", "PdM.Edge.Inference", "PdM.Edge.Journal" },
            Product.Edge.Select(p => p.Name).ToHashSet());
        Assert.Contains("PdM.Contracts", Product.Libraries.Select(p => p.Name));
    }

    [Fact]
    public void Every_project_is_seen_by_its_references_and_its_compiled_assembly()
    {
        // The host composes modules: if the project graph or the assembly reading were broken, this would be empty.
        var host = Product.Get("PdM.Host");
        Assert.Contains("PdM.Maintenance", host.ProjectsCarried);
        Assert.Contains("PdM.Maintenance", host.ReferencedAssemblies);
        Assert.Contains("Npgsql", Product.Get("PdM.Maintenance").PackagesCarried);
    }
}
