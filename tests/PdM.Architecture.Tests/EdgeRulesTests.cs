namespace PdM.Architecture.Tests;

/// <summary>
/// The edge runs in a plant, on its own, talking to the cloud only over the bus: no edge project builds on a cloud
/// project (anything under services/) or on the shared libraries only the cloud side uses (PdM.Persistence: the
/// modules' database, outbox and inbox; PdM.Authentication: JWT bearer validation), and none carries the cloud's
/// database stack (EF Core, Npgsql).
/// </summary>
public sealed class EdgeRulesTests
{
    private static readonly string[] DatabaseStack = ["Microsoft.EntityFrameworkCore", "Npgsql"];

    private static readonly string[] CloudSideLibraries = ["PdM.Persistence", "PdM.Authentication"];

    public static TheoryData<string> EdgeProjects => [.. Product.Edge.Select(p => p.Name)];

    [Theory]
    [MemberData(nameof(EdgeProjects))]
    public void An_edge_project_references_no_cloud_project_or_cloud_side_library(string edgeProject) =>
        Rule.Holds(Product.ReferencesTo(Product.Get(edgeProject), Product.Projects.Where(p => p.Area == "services" || CloudSideLibraries.Contains(p.Name))));

    [Theory]
    [MemberData(nameof(EdgeProjects))]
    public void An_edge_project_carries_no_EF_Core_or_Npgsql(string edgeProject) =>
        Rule.Holds(Product.PackagesAndAssembliesNamed(Product.Get(edgeProject), DatabaseStack));
}
