namespace PdM.Architecture.Tests;

/// <summary>
/// What the two decisions about composition say, held as rules. docs/decisions/0005: PdM.Host knows only the cloud
/// modules and infrastructure; the gateway, the simulator and the CMMS stubs are the demo's (demo/PdM.Demo), not the
/// host's. docs/decisions/0006: PdM.Training is a library that owns no state, endpoint, consumer or schema; the
/// Telemetry module runs its jobs.
/// </summary>
public sealed class CompositionRulesTests
{
    private static readonly string[] HostingStack =
        ["Microsoft.AspNetCore", "Microsoft.Extensions.Hosting", "MassTransit", "Microsoft.EntityFrameworkCore", "Npgsql"];

    [Fact]
    public void PdM_Host_references_no_edge_project_and_no_other_executable() =>
        Rule.Holds(Product.ReferencesTo(
            Product.Get("PdM.Host"),
            Product.Projects.Where(p => p.Area == "edge" || (p.IsExecutable && p.Name != "PdM.Host"))));

    [Fact]
    public void PdM_Training_carries_no_web_bus_or_database_stack_and_no_shared_framework_beyond_the_base_runtime()
    {
        var training = Product.Get("PdM.Training");
        Rule.Holds([.. Product.PackagesAndAssembliesNamed(training, HostingStack), .. Product.FrameworksBeyondBaseRuntime(training)]);
    }
}
