using NetArchTest.Rules;

namespace PdM.Architecture.Tests;

/// <summary>
/// PdM.Contracts is what every side of the platform shares, so it depends on nothing but the .NET base class library:
/// no package, no project, no framework beyond Microsoft.NETCore.App.
/// </summary>
public sealed class ContractsRulesTests
{
    private static readonly ProductProject Contracts = Product.Get("PdM.Contracts");

    [Fact]
    public void Contracts_carry_no_package_no_project_and_no_framework_beyond_the_base()
    {
        Rule.Holds(Contracts.PackagesCarried.Select(p => $"package {p}")
            .Concat(Contracts.ProjectsCarried.Select(p => $"project {p}"))
            .Concat(Contracts.Frameworks.Where(f => f != "Microsoft.NETCore.App").Select(f => $"framework {f}")));
    }

    [Fact]
    public void Contracts_reference_only_assemblies_of_the_base_class_library()
    {
        // The shared framework this test runs on is the base class library: System.*, netstandard and the few others.
        var baseClassLibrary = Path.GetDirectoryName(typeof(object).Assembly.Location)!;

        var outside = Contracts.ReferencedAssemblies
            .Where(name => !File.Exists(Path.Combine(baseClassLibrary, name + ".dll")));

        Rule.Holds(outside);
    }

    [Fact]
    public void Contract_types_use_only_System_types()
    {
        var result = Types.FromFile(Contracts.AssemblyPath)
            .Should()
            .OnlyHaveDependenciesOn("System", "PdM.Contracts")
            .GetResult();

        Rule.Holds(result.FailingTypeNames ?? []);
    }
}
