using NetArchTest.Rules;

namespace PdM.Architecture.Tests;

/// <summary>
/// Feature computation and scoring run alike in the gateway, in training and in benchmarks, so PdM.Features and
/// PdM.Edge.Inference know no host: not ASP.NET Core, not the Generic Host, not MassTransit. Checked through every
/// product assembly they build on (Inference uses Rules, ModelPackage, Features, Contracts). Not even ASP.NET Core's
/// shared framework for its logging and options abstractions: a library that names it makes every program using it
/// (pdm, a benchmark, a training job) need the ASP.NET Core runtime installed.
/// </summary>
public sealed class HostAgnosticRulesTests
{
    private static readonly string[] Hosts = ["Microsoft.AspNetCore", "Microsoft.Extensions.Hosting", "MassTransit"];

    public static TheoryData<string> HostAgnostic => ["PdM.Features", "PdM.Edge.Inference"];

    [Theory]
    [MemberData(nameof(HostAgnostic))]
    public void No_host_package_or_assembly(string library) =>
        Rule.Holds(Product.PackagesAndAssembliesNamed(Product.Get(library), Hosts));

    [Theory]
    [MemberData(nameof(HostAgnostic))]
    public void No_type_uses_a_host_namespace(string library)
    {
        var result = Types.FromFile(Product.Get(library).AssemblyPath)
            .ShouldNot()
            .HaveDependencyOnAny(Hosts)
            .GetResult();

        Rule.Holds(result.FailingTypeNames ?? []);
    }

    [Theory]
    [MemberData(nameof(HostAgnostic))]
    public void No_shared_framework_but_the_base_runtime(string library) =>
        Rule.Holds(Product.FrameworksBeyondBaseRuntime(Product.Get(library)));
}
