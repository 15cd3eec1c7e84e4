namespace PdM.ModelPackage.Tests;

public sealed class SemanticVersionTests
{
    [Theory]
    [InlineData("1.0.0", "2.0.0")]
    [InlineData("1.9.0", "1.10.0")]
    [InlineData("1.0.0-rc.1", "1.0.0")]
    [InlineData("1.0.0-alpha", "1.0.0-alpha.1")]
    [InlineData("1.0.0-alpha.2", "1.0.0-alpha.10")]
    [InlineData("1.0.0-alpha.1", "1.0.0-beta")]
    public void Versions_order_by_semver_precedence(string lower, string higher)
    {
        Assert.True(SemanticVersion.TryParse(lower, out var a));
        Assert.True(SemanticVersion.TryParse(higher, out var b));

        Assert.True(a < b);
        Assert.True(b > a);
    }

    [Theory]
    [InlineData("1.0")]
    [InlineData("v1.0.0")]
    [InlineData("1.0.0-")]
    [InlineData("")]
    public void Non_semantic_versions_are_refused(string text) => Assert.False(SemanticVersion.TryParse(text, out _));

    [Fact]
    public void Build_metadata_does_not_change_precedence()
    {
        Assert.True(SemanticVersion.TryParse("1.2.3+build.7", out var a));
        Assert.True(SemanticVersion.TryParse("1.2.3", out var b));

        Assert.Equal(0, a.CompareTo(b));
    }
}
