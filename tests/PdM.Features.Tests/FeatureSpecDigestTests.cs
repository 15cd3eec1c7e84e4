namespace PdM.Features.Tests;

/// <summary>
/// The spec digest is how the gateway's feature batches, the feature store and a model package agree that they mean
/// the same features: it must not depend on how a file is formatted, and must change with any feature.
/// </summary>
public sealed class FeatureSpecDigestTests
{
    private const string Canonical =
        """{"specVersion":1,"window":{"kind":"count","size":30,"hop":1,"watermarkMs":0},"features":[{"name":"cycle","sensor":"cycle","function":"last"},{"name":"s4_mean","sensor":"s4","function":"mean"}]}""";

    [Fact]
    public void The_digest_is_sha256_of_the_canonical_json_whatever_the_file_layout()
    {
        var spec = FeatureSpec.Parse("""
            {
              "features": [
                { "function": "last", "sensor": "cycle", "name": "cycle" },
                { "name": "s4_mean", "sensor": "s4", "function": "mean" }
              ],
              "window": { "kind": "count", "size": 30, "hop": 1 },
              "specVersion": 1
            }
            """);

        Assert.Equal(Canonical, spec.ToJson());

        // sha256 of the UTF-8 bytes of Canonical, computed outside .NET (Python hashlib): pins the published form.
        Assert.Equal("sha256:12b14b418088804b5f5cda0ad75971b91bec1f4b1558c935ad981cb5a1e25c96", FeatureSpecDigest.Compute(spec));
    }

    [Fact]
    public void Any_change_to_a_feature_or_the_window_changes_the_digest()
    {
        var spec = FeatureSpec.Parse(Canonical);
        var digest = FeatureSpecDigest.Compute(spec);

        var otherFunction = spec with { Features = [spec.Features[0], spec.Features[1] with { Function = FeatureFunction.Max }] };
        var otherWindow = spec with { Window = WindowSpec.Count(31, 1) };
        var otherOrder = spec with { Features = [spec.Features[1], spec.Features[0]] };

        Assert.NotEqual(digest, FeatureSpecDigest.Compute(otherFunction));
        Assert.NotEqual(digest, FeatureSpecDigest.Compute(otherWindow));
        Assert.NotEqual(digest, FeatureSpecDigest.Compute(otherOrder));
        Assert.Equal(digest, FeatureSpecDigest.Compute(FeatureSpec.Parse(spec.ToJson())));
    }
}
