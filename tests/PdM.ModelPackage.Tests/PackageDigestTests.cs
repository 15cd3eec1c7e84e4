using System.Text;

namespace PdM.ModelPackage.Tests;

public sealed class PackageDigestTests
{
    private static readonly byte[] Model = [1, 2, 3];

    [Fact]
    public void Whitespace_and_member_order_do_not_change_the_digest()
    {
        var a = PackageDigest.Compute(Model, Encoding.UTF8.GetBytes("{\"b\": 1.50, \"a\": [\"x\", {\"d\":true,\"c\":null}]}"));
        var b = PackageDigest.Compute(Model, Encoding.UTF8.GetBytes("{\n  \"a\": [\"x\", {\"c\": null, \"d\": true}],\n  \"b\": 1.50\n}"));

        Assert.Equal(a, b);
    }

    [Fact]
    public void Any_change_of_content_changes_the_digest()
    {
        var manifest = Encoding.UTF8.GetBytes("{\"version\":\"1.0.0\"}");
        var baseline = PackageDigest.Compute(Model, manifest);

        Assert.NotEqual(baseline, PackageDigest.Compute(Model, Encoding.UTF8.GetBytes("{\"version\":\"1.0.1\"}")));
        Assert.NotEqual(baseline, PackageDigest.Compute([1, 2, 4], manifest));
    }

    [Fact]
    public void The_canonical_manifest_is_compact_sorted_and_minimally_escaped()
    {
        var canonical = PackageDigest.CanonicalManifest(Encoding.UTF8.GetBytes("{ \"z\": \"ü<>\", \"a\": 1e-4 }"));

        Assert.Equal("{\"a\":1e-4,\"z\":\"ü<>\"}", Encoding.UTF8.GetString(canonical));
    }
}
