namespace PdM.Architecture.Tests;

/// <summary>
/// Composition points at libraries, never the other way: no library (a module included) references an executable
/// such as PdM.Host, the gateway or the CMMS stubs.
/// </summary>
public sealed class LibraryRulesTests
{
    public static TheoryData<string> Libraries => [.. Product.Libraries.Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(Libraries))]
    public void A_library_references_no_executable(string library) =>
        Rule.Holds(Product.ReferencesTo(Product.Get(library), Product.Executables));
}
