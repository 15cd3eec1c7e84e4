using NetArchTest.Rules;

namespace PdM.Architecture.Tests;

/// <summary>
/// Inside a module, HTTP is an edge like the bus: a consumer calls the module's application code, never its HTTP
/// endpoints' types (<c>{Module}.Api</c>), so whatever a consumer does an endpoint can do by the same code and neither
/// drags the other's transport along. Checked on the compiled assembly of every module.
/// </summary>
public sealed class ModuleLayerRulesTests
{
    public static TheoryData<string> Modules => [.. Product.Modules.Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(Modules))]
    public void A_consumer_does_not_use_its_modules_http_api(string module)
    {
        var project = Product.Get(module);
        var result = Types.FromFile(project.AssemblyPath)
            .That().ResideInNamespace(project.AssemblyName + ".Consumers")
            .ShouldNot().HaveDependencyOn(project.AssemblyName + ".Api")
            .GetResult();

        Rule.Holds((result.FailingTypeNames ?? []).Select(type => $"{type} -> {project.AssemblyName}.Api"));
    }

    /// <summary>
    /// The registry's application layer (registration, promotion, live performance) takes plain inputs and returns
    /// outcomes as values: no HTTP types, and nothing of the endpoints that map its outcomes to responses.
    /// </summary>
    [Fact]
    public void The_registrys_application_layer_knows_no_http()
    {
        var result = Types.FromFile(Product.Get("PdM.Registry").AssemblyPath)
            .That().ResideInNamespace("PdM.Registry.Application")
            .ShouldNot().HaveDependencyOnAny("Microsoft.AspNetCore", "PdM.Registry.Api")
            .GetResult();

        Rule.Holds(result.FailingTypeNames ?? []);
    }
}
