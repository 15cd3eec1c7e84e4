using System.Text.Json;
using System.Text.Json.Nodes;

namespace PdM.ModelPackage.Tests;

public sealed class TrainingDistributionTests
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    [Fact]
    public void Bins_are_cut_at_the_training_deciles_and_hold_a_tenth_each()
    {
        var values = Enumerable.Range(0, 1000).Select(i => (double)i).ToList();

        var d = TrainingDistribution.FromColumns(["x"], [values]).Features[0];

        Assert.Equal([100, 200, 300, 400, 500, 600, 700, 800, 900], d.Edges);
        Assert.All(d.Proportions, p => Assert.Equal(0.1, p, 12));
    }

    [Fact]
    public void A_constant_or_two_valued_feature_gets_fewer_bins_and_non_finite_values_are_skipped()
    {
        var constant = TrainingDistribution.FromColumns(["c"], [[5, 5, 5, double.NaN]]).Features[0];
        Assert.Equal([5.0], constant.Edges);
        Assert.Equal([0.0, 1.0], constant.Proportions);

        var binary = FeatureDistribution.FromValues("b", [.. Enumerable.Repeat(0.0, 80), .. Enumerable.Repeat(1.0, 20), double.PositiveInfinity]);
        Assert.Equal([0.0, 1.0], binary.Edges);
        Assert.Equal([0.0, 0.8, 0.2], binary.Proportions);

        Assert.Equal(-1, FeatureDistribution.BinOf([0.0, 1.0], double.NaN));
        Assert.Equal(0, FeatureDistribution.BinOf([0.0, 1.0], -3));
        Assert.Equal(2, FeatureDistribution.BinOf([0.0, 1.0], 1));
    }

    [Fact]
    public void Psi_is_near_zero_for_the_training_distribution_and_large_for_a_three_sigma_shift()
    {
        var random = new Random(13);
        var training = Enumerable.Range(0, 5000).Select(_ => Gaussian(random)).ToList();
        var d = FeatureDistribution.FromValues("x", training);

        var same = Count(d, Enumerable.Range(0, 2000).Select(_ => Gaussian(random)));
        var shifted = Count(d, Enumerable.Range(0, 2000).Select(_ => Gaussian(random) + 3));

        Assert.InRange(TrainingDistribution.Psi([.. d.Proportions], same), 0, 0.05);
        Assert.True(TrainingDistribution.Psi([.. d.Proportions], shifted) > 2, "a 3σ shift puts almost everything in the top bin");
        Assert.Equal(0, TrainingDistribution.Psi([.. d.Proportions], new int[d.Proportions.Count]));
    }

    [Fact]
    public void A_manifest_with_a_training_distribution_loads_and_one_that_does_not_fit_the_spec_is_invalid()
    {
        var good = WithDistribution(_ => { });
        Assert.Null(good.Rejection);
        using (var package = good.Package!)
        {
            Assert.Equal(5, package.Manifest.TrainingDistribution!.Features.Count);
        }

        AssertInvalid(WithDistribution(d => d["features"]![1]!["name"] = "other"), "trainingDistribution.features[1]");
        AssertInvalid(WithDistribution(d => d["features"]!.AsArray().RemoveAt(4)), "trainingDistribution.features has 4 entries");
        AssertInvalid(WithDistribution(d => d["features"]![0]!["proportions"]![0] = 0.9), "sum to");
        AssertInvalid(WithDistribution(d => d["features"]![0]!["edges"]!.AsArray().Add(-1.0)), "edges and");
        AssertInvalid(WithDistribution(d => d["features"]![0]!["edges"]![1] = -1e9), "strictly increasing");
    }

    private static void AssertInvalid(ModelPackageLoadResult result, string detail)
    {
        Assert.Equal(PackageRejectionReason.ManifestInvalid, result.Rejection!.Reason);
        Assert.Contains(detail, result.Rejection.Detail, StringComparison.Ordinal);
    }

    /// <summary>logreg_failure with a distribution computed from its own golden-vector inputs, changed by <paramref name="change"/>.</summary>
    private static ModelPackageLoadResult WithDistribution(Action<JsonNode> change)
    {
        var dir = TestModels.CopyToTemp("logreg_failure");
        try
        {
            var path = Path.Combine(dir, "manifest.json");
            var manifest = JsonNode.Parse(File.ReadAllText(path))!;
            var names = manifest["featureStatistics"]!.AsArray().Select(s => (string)s!["name"]!).ToList();
            var inputs = manifest["goldenVectors"]!["cases"]!.AsArray().Select(c => c!["input"]!.AsArray().Select(v => (double)v!).ToList()).ToList();
            var columns = names.Select((_, f) => (IReadOnlyList<double>)[.. inputs.Select(row => row[f])]).ToList();
            var distribution = JsonSerializer.SerializeToNode(TrainingDistribution.FromColumns(names, columns), s_json)!;
            change(distribution);
            manifest["trainingDistribution"] = distribution;
            File.WriteAllText(path, manifest.ToJsonString());
            return ModelPackageLoader.Load(dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int[] Count(FeatureDistribution d, IEnumerable<double> values)
    {
        var counts = new int[d.Proportions.Count];
        foreach (var v in values)
        {
            counts[FeatureDistribution.BinOf([.. d.Edges], v)]++;
        }

        return counts;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
