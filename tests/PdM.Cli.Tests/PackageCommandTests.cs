using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PdM.ModelPackage;
using PdM.Testing;
using PdM.Training;

namespace PdM.Cli.Tests;

/// <summary>
/// <c>pdm model package</c> with a model that was not trained by the platform: a tree ensemble built with Debian's
/// python3-onnx, the CSV it was trained on and its feature spec, packaged, loaded by the gateway's loader and pushed.
/// </summary>
public sealed class PackageCommandTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    [Fact]
    public async Task An_onnx_model_and_a_csv_become_a_package_the_gateways_loader_accepts_with_golden_vectors_numpy_agrees_with()
    {
        var byo = ByoModel.Build(features: 16, output: "rul");
        var alice = new CliUser(fixture.Server);
        await alice.SignIn("alice", "data-scientist");
        var name = "byo-" + Guid.NewGuid().ToString("N")[..8];
        var output = Path.Combine(byo.Directory, "package");

        var run = await alice.Run("model", "package", byo.Model, "--spec", byo.Spec, "--data", byo.Csv, "--label", "rul_true",
            "--name", name, "--version", "1.0.0", "--asset-class", "turbofan", "--author", "dana", "--output", output);

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        Assert.Contains($"Wrote {name} 1.0.0 (turbofan) to {output}", run.Output, StringComparison.Ordinal);
        Assert.Contains("output      rul: remaining useful life (cycles)", run.Output, StringComparison.Ordinal);
        Assert.Contains($"Next: pdm model push {output}", run.Output, StringComparison.Ordinal);

        // The gateway's own loader: manifest, ONNX checks, session, signature match and golden vectors.
        var loaded = ModelPackageLoader.Load(output);
        Assert.True(loaded.Succeeded, loaded.Rejection?.ToString());
        using var package = loaded.Package!;
        var manifest = package.Manifest;
        Assert.Equal("features", manifest.Input.Name);
        Assert.Equal([-1L, 16L], manifest.Input.Shape);
        var rul = Assert.Single(manifest.Outputs);
        Assert.Equal(("rul", OutputMeaning.RulCycles), (rul.Name, rul.Meaning));
        Assert.Equal("PDE", manifest.FailureMode);

        // Golden vectors are rows of the CSV, and ONNX Runtime's outputs agree with numpy's independent tree walk.
        var expected = byo.Expected();
        Assert.Equal(8, manifest.GoldenVectors.Cases.Count);
        foreach (var golden in manifest.GoldenVectors.Cases)
        {
            var row = expected.Single(e => e.Input.SequenceEqual(golden.Input));
            Assert.Equal(row.Prediction, golden.Outputs["rul"][0], 3);
        }

        // Per-feature statistics are the CSV's, in spec order; provenance names the data, the author and the time.
        var first = expected.Select(e => (double)e.Input[0]).ToList();
        var statistics = manifest.FeatureStatistics[0];
        Assert.Equal(("s00_mean", first.Min(), first.Max()), (statistics.Name, statistics.Min, statistics.Max));
        Assert.Equal(first.Average(), statistics.Mean, 3);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(byo.Csv))), manifest.Provenance.DatasetDigest);
        Assert.Equal("dana", manifest.Provenance.CreatedBy);
        // The training distribution the drift monitor compares with: the CSV's deciles per feature.
        var bins = Assert.IsType<TrainingDistribution>(manifest.TrainingDistribution);
        Assert.Equal(manifest.FeatureStatistics.Select(f => f.Name), bins.Features.Select(f => f.Name));
        // s00_mean's deciles worked out here from the CSV's column. The definition is the one TrainingDistribution
        // documents: nearest rank, the q-th of the 9 interior edges is the sorted value at index floor(q·n/10) (an edge is
        // always a value the data had), repeated edges dropped; bin i holds edges[i−1] ≤ x < edges[i]. The package keeps
        // features as float32, hence the tolerance.
        var csv = File.ReadAllLines(byo.Csv).Where(l => l.Length > 0).ToList();
        var s00Column = Array.IndexOf(csv[0].Split(','), "s00_mean");
        var sorted = csv.Skip(1).Select(l => double.Parse(l.Split(',')[s00Column], CultureInfo.InvariantCulture)).Order().ToList();
        var deciles = Enumerable.Range(1, 9).Select(q => sorted[Math.Min(sorted.Count - 1, q * sorted.Count / 10)]).Distinct().ToList();
        var s00 = bins.Features[0];
        Assert.Equal("s00_mean", s00.Name);
        Assert.Equal(deciles.Count, s00.Edges.Count);
        for (var i = 0; i < deciles.Count; i++)
        {
            Assert.Equal(deciles[i], s00.Edges[i], 1e-4);
        }

        double[] lower = [double.NegativeInfinity, .. deciles], upper = [.. deciles, double.PositiveInfinity];
        Assert.Equal(deciles.Count + 1, s00.Proportions.Count);
        for (var i = 0; i < lower.Length; i++)
        {
            var share = (double)sorted.Count(v => v >= lower[i] && v < upper[i]) / sorted.Count;
            Assert.Equal(share, s00.Proportions[i], 1e-9);
        }

        Assert.InRange(manifest.Provenance.CreatedAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow);

        // And the registry, which validates as the gateways do, takes it as it is.
        var push = await alice.Run("model", "push", output);
        Assert.True(push.ExitCode == ExitCodes.Success, push.ToString());
        Assert.Contains($"Registered {name} 1.0.0 (Candidate) for turbofan", push.Output, StringComparison.Ordinal);
        Assert.Contains(package.Digest, push.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_spec_and_a_snapshot_from_the_feature_store_package_a_model_with_the_snapshots_digest_as_provenance()
    {
        // The feature store holds a spec under a name and a snapshot of C-MAPSS rows computed with it.
        var spec = CmapssTraining.DefaultSpec(30);
        var specName = "cli-turbofan-" + Guid.NewGuid().ToString("N")[..8];
        using var registered = await fixture.Admin.PutAsync($"/api/feature-store/specs/{specName}", new StringContent(spec.ToJson(), Encoding.UTF8, "application/json"));
        var specDigest = await registered.EnsureSuccessStatusCode().Content.ReadAsStringAsync();
        var lines = File.ReadLines(Path.Combine(LocalDependencies.RepositoryRoot, "datasets", "cmapss", "train_FD001.txt"))
            .Where(l => l.Trim().Length > 0 && int.Parse(l.TrimStart().Split(' ', 2)[0], NumberStyles.Integer, CultureInfo.InvariantCulture) <= 2);
        var dataset = "cli-" + Guid.NewGuid().ToString("N")[..8];
        using var imported = await fixture.Admin.PostAsync($"/api/feature-store/imports/cmapss?name={dataset}&specDigest={Uri.EscapeDataString(specDigest)}",
            new StringContent(string.Join('\n', lines), Encoding.UTF8, "text/plain"));
        var source = (await imported.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("source").GetString();
        using var created = await fixture.Admin.PostAsJsonAsync("/api/feature-store/snapshots", new { name = dataset, source, specDigest, labelKind = "rul" });
        var snapshot = await created.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        var (snapshotId, rows, digest) = (snapshot.GetProperty("id").GetString()!, snapshot.GetProperty("rowCount").GetInt32(), snapshot.GetProperty("digest").GetString()!);

        var byo = ByoModel.Build(features: spec.Features.Count, output: "rul");
        var alice = new CliUser(fixture.Server);
        await alice.SignIn("alice", "data-scientist");
        var output = Path.Combine(byo.Directory, "from-store");
        var run = await alice.Run("model", "package", byo.Model, "--spec", specName, "--data", snapshotId,
            "--name", "byo-store", "--version", "1.0.0", "--asset-class", "turbofan", "--output", output);

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        Assert.Contains($"← feature spec '{specName}' (feature store)", run.Output, StringComparison.Ordinal);
        Assert.Contains($"over {rows} rows of snapshot {snapshotId} ({dataset})", run.Output, StringComparison.Ordinal);
        using var package = ModelPackageLoader.Load(output).Package!;
        Assert.Equal(digest, package.Manifest.Provenance.DatasetDigest);
        Assert.Equal(spec, package.FeatureSpec);
        Assert.Equal(spec.Features.Select(f => f.Name), package.Manifest.FeatureStatistics.Select(s => s.Name));

        var unknown = await alice.Run("model", "package", byo.Model, "--spec", "no-such-spec", "--data", snapshotId,
            "--name", "byo-store", "--version", "1.0.0", "--asset-class", "turbofan", "--output", output);
        Assert.Equal(ExitCodes.NotFound, unknown.ExitCode);
        Assert.Contains("no feature spec is registered under the name 'no-such-spec'", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Data_that_misses_a_feature_a_model_of_another_width_and_an_output_of_unknown_meaning_are_refused_with_what_to_do()
    {
        var good = ByoModel.Build(features: 16, output: "rul");
        var narrow = ByoModel.Build(features: 8, output: "rul");
        var unnamed = ByoModel.Build(features: 16, output: "y");
        var alice = new CliUser(fixture.Server);
        var output = Path.Combine(good.Directory, "refused");

        Task<CliRun> Package(string model, string data, params string[] more) => alice.Run(
            ["model", "package", model, "--spec", good.Spec, "--data", data, "--name", "byo-bad", "--version", "1.0.0", "--asset-class", "turbofan", "--output", output, .. more]);

        var missing = await Package(good.Model, narrow.Csv);
        Assert.Equal(ExitCodes.Rejected, missing.ExitCode);
        Assert.Contains("has no column for 8 of the spec's 16 features: s08_mean, s09_mean", missing.Error, StringComparison.Ordinal);

        var width = await Package(narrow.Model, good.Csv);
        Assert.Equal(ExitCodes.Rejected, width.ExitCode);
        Assert.Contains("input 'features' takes 8 features per row; the feature spec has 16", width.Error, StringComparison.Ordinal);

        var unknown = await Package(unnamed.Model, good.Csv);
        Assert.Equal(ExitCodes.Rejected, unknown.ExitCode);
        Assert.Contains("cannot tell what output 'y'", unknown.Error, StringComparison.Ordinal);
        Assert.Contains("pass --output-kind (rul, rul-hours, failure-probability, class)", unknown.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any(), "a refused package leaves nothing behind");

        var label = await Package(good.Model, good.Csv, "--label", "no_such_column");
        Assert.Equal(ExitCodes.Rejected, label.ExitCode);
        Assert.Contains("no label column 'no_such_column'", label.Error, StringComparison.Ordinal);

        // Told what the output means, the same model packages.
        var told = await Package(unnamed.Model, good.Csv, "--output-kind", "rul", "--thresholds", "40,20,10");
        Assert.True(told.ExitCode == ExitCodes.Success, told.ToString());
        using var package = ModelPackageLoader.Load(output).Package!;
        Assert.Equal(OutputMeaning.RulCycles, Assert.Single(package.Manifest.Outputs).Meaning);
        Assert.Equal((40.0, 20.0, 10.0), (package.Manifest.Thresholds.RulWatch, package.Manifest.Thresholds.RulAlert, package.Manifest.Thresholds.RulDanger));
    }
}
