namespace PdM.Architecture.Tests;

internal static class Rule
{
    /// <summary>Passes when nothing breaks the rule; otherwise fails naming every offending reference, one a line.</summary>
    public static void Holds(IEnumerable<string> violations)
    {
        var found = violations.ToArray();
        Assert.True(found.Length == 0, $"{found.Length} reference(s) break the rule:{Environment.NewLine}{string.Join(Environment.NewLine, found)}");
    }
}
