using System.Diagnostics;
using System.Text.Json.Nodes;
using PdM.Testing;

namespace PdM.Cli.Tests;

/// <summary>
/// A model made outside the platform by <c>byo_model.py</c> with Debian's python3-onnx (called by its full path: another
/// python3 on PATH may lack the package; `infra/local/deps.sh start` installs it; a missing one fails, never skips):
/// model.onnx, the CSV it was trained on, its feature spec, and numpy's prediction for every row.
/// </summary>
internal sealed record ByoModel(string Directory)
{
    private const string Python = "/usr/bin/python3";

    public string Model => Path.Combine(Directory, "model.onnx");

    public string Csv => Path.Combine(Directory, "data.csv");

    public string Spec => Path.Combine(Directory, "spec.json");

    /// <summary>numpy's prediction per input row (the CSV's feature values as float32).</summary>
    public IReadOnlyList<(float[] Input, double Prediction)> Expected() =>
        [.. JsonNode.Parse(File.ReadAllText(Path.Combine(Directory, "expected.json")))!.AsArray()
            .Select(e => (e!["input"]!.AsArray().Select(v => (float)v!.GetValue<double>()).ToArray(), e["prediction"]!.GetValue<double>()))];

    public static ByoModel Build(int features = 16, string output = "rul")
    {
        Assert.True(File.Exists(Python), $"{Python} is missing: run infra/local/deps.sh start (installs python3-onnx)");
        var directory = System.IO.Directory.CreateTempSubdirectory("pdm-byo-").FullName;
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(LocalDependencies.RepositoryRoot, "tests", "PdM.Cli.Tests", "byo_model.py"));
        start.ArgumentList.Add(directory);
        start.ArgumentList.Add("--features");
        start.ArgumentList.Add(features.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add("--output");
        start.ArgumentList.Add(output);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "byo_model.py did not finish within a minute");
        var printed = stdout.Result + stderr.Result;
        Assert.False(printed.Contains("No module named 'onnx'", StringComparison.Ordinal), "python3-onnx is not installed for /usr/bin/python3: run infra/local/deps.sh start");
        Assert.True(process.ExitCode == 0, "byo_model.py failed: " + printed);
        return new ByoModel(directory);
    }
}
