namespace PdM.Architecture.Tests;

/// <summary>
/// Cloud modules meet only through contracts (the bus and PdM.Contracts) and are composed by a host: a module never
/// builds on another module or on the edge. (That no library, modules included, references a host is
/// <see cref="LibraryRulesTests"/>.)
/// </summary>
public sealed class ModuleRulesTests
{
    public static TheoryData<string> Modules => [.. Product.Modules.Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(Modules))]
    public void A_module_references_no_other_module(string module) =>
        Rule.Holds(Product.ReferencesTo(Product.Get(module), Product.Modules.Where(m => m.Name != module)));

    [Theory]
    [MemberData(nameof(Modules))]
    public void A_module_references_no_edge_project(string module) =>
        Rule.Holds(Product.ReferencesTo(Product.Get(module), Product.Edge));
}
