using System.IO.Compression;
using System.Text.Json.Nodes;

namespace PdM.ModelPackage.Tests;

public sealed class ModelPackageLoaderTests
{
    [Theory]
    [InlineData("logreg_failure", "ai4i-failure-logreg", 5)]
    [InlineData("logreg_failure_v2", "ai4i-failure-logreg", 5)]
    [InlineData("rul_trees", "cmapss-rul-trees", 3)]
    [InlineData("failure_mode_trees", "ai4i-failure-mode-trees", 5)]
    public void Good_packages_load_with_their_golden_vectors_reproduced(string folder, string name, int features)
    {
        var result = ModelPackageLoader.Load(TestModels.PackagePath(folder));

        Assert.Null(result.Rejection);
        using var package = result.Package!;
        Assert.Equal(name, package.Manifest.Name);
        Assert.Equal(features, package.FeatureCount);
        Assert.Matches("^[0-9a-f]{64}$", package.Digest);
    }

    [Theory]
    [InlineData("broken_truncated", PackageRejectionReason.ModelUnparseable)]
    [InlineData("broken_wrong_shape", PackageRejectionReason.InputMismatch)]
    [InlineData("broken_custom_domain", PackageRejectionReason.DisallowedDomain)]
    [InlineData("broken_external_data", PackageRejectionReason.ExternalData)]
    [InlineData("broken_golden_mismatch", PackageRejectionReason.GoldenVectorMismatch)]
    public void Broken_packages_are_rejected_with_their_exact_reason(string folder, PackageRejectionReason reason)
    {
        var result = ModelPackageLoader.Load(TestModels.PackagePath(folder));

        Assert.False(result.Succeeded);
        Assert.Equal(reason, result.Rejection!.Reason);
    }

    [Fact]
    public void Rejection_details_name_what_is_wrong()
    {
        Assert.Contains("takes 3 features; the feature spec has 5", ModelPackageLoader.Load(TestModels.PackagePath("broken_wrong_shape")).Rejection!.Detail, StringComparison.Ordinal);
        Assert.Contains("com.example.secret", ModelPackageLoader.Load(TestModels.PackagePath("broken_custom_domain")).Rejection!.Detail, StringComparison.Ordinal);
        Assert.Contains("weights.bin", ModelPackageLoader.Load(TestModels.PackagePath("broken_external_data")).Rejection!.Detail, StringComparison.Ordinal);
        Assert.Contains("expected 0.99", ModelPackageLoader.Load(TestModels.PackagePath("broken_golden_mismatch")).Rejection!.Detail, StringComparison.Ordinal);
        Assert.Equal("golden_vector_mismatch", ModelPackageLoader.Load(TestModels.PackagePath("broken_golden_mismatch")).Rejection!.Code);
    }

    [Fact]
    public void A_model_over_the_size_limit_is_rejected_before_it_is_parsed()
    {
        var options = new ModelPackageLoadOptions { Limits = new ModelPackageLimits { MaxModelBytes = 100 } };

        var result = ModelPackageLoader.Load(TestModels.PackagePath("logreg_failure"), options);

        Assert.Equal(PackageRejectionReason.TooLarge, result.Rejection!.Reason);
        Assert.Contains("limit is 100 bytes", result.Rejection.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_zip_package_loads_and_has_the_same_digest_as_its_directory()
    {
        var zip = Path.Combine(Path.GetTempPath(), "pdm-mp-" + Guid.NewGuid().ToString("N") + ".zip");
        try
        {
            ModelPackageFiles.WriteZip(TestModels.PackagePath("rul_trees"), zip);

            using var fromZip = ModelPackageLoader.Load(zip).Package!;
            using var fromDirectory = ModelPackageLoader.Load(TestModels.PackagePath("rul_trees")).Package!;

            Assert.Equal(fromDirectory.Digest, fromZip.Digest);
        }
        finally
        {
            File.Delete(zip);
        }
    }

    [Fact]
    public void A_zip_without_a_manifest_is_rejected_as_missing_entry()
    {
        var zip = Path.Combine(Path.GetTempPath(), "pdm-mp-" + Guid.NewGuid().ToString("N") + ".zip");
        try
        {
            using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
            {
                archive.CreateEntryFromFile(Path.Combine(TestModels.PackagePath("logreg_failure"), "model.onnx"), "model.onnx");
            }

            var result = ModelPackageLoader.Load(zip);

            Assert.Equal(PackageRejectionReason.MissingEntry, result.Rejection!.Reason);
            Assert.Contains("manifest.json", result.Rejection.Detail, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(zip);
        }
    }

    [Fact]
    public void A_file_that_is_not_a_zip_is_unreadable_not_an_exception()
    {
        var file = Path.Combine(Path.GetTempPath(), "pdm-mp-" + Guid.NewGuid().ToString("N") + ".zip");
        File.WriteAllText(file, "not a zip");
        try
        {
            Assert.Equal(PackageRejectionReason.Unreadable, ModelPackageLoader.Load(file).Rejection!.Reason);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_missing_package_is_not_found()
    {
        Assert.Equal(PackageRejectionReason.NotFound, ModelPackageLoader.Load(Path.Combine(TestModels.Generated, "nope")).Rejection!.Reason);
    }

    [Fact]
    public void A_manifest_whose_feature_statistics_do_not_follow_the_feature_spec_is_invalid()
    {
        var dir = TestModels.CopyToTemp("logreg_failure");
        try
        {
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")))!;
            manifest["featureStatistics"]![0]!["name"] = "something_else";
            File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest.ToJsonString());

            var result = ModelPackageLoader.Load(dir);

            Assert.Equal(PackageRejectionReason.ManifestInvalid, result.Rejection!.Reason);
            Assert.Contains("featureStatistics[0]", result.Rejection.Detail, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_manifest_with_a_bad_version_is_invalid()
    {
        var dir = TestModels.CopyToTemp("logreg_failure");
        try
        {
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")))!;
            manifest["version"] = "v1";
            File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest.ToJsonString());

            Assert.Equal(PackageRejectionReason.ManifestInvalid, ModelPackageLoader.Load(dir).Rejection!.Reason);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
