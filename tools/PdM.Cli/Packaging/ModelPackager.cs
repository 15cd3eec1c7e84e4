using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using PdM.Features;
using PdM.ModelPackage;
using PdM.Training;

namespace PdM.Cli.Packaging;

/// <summary>Everything <c>pdm model package</c> was told, already read from files or the platform.</summary>
internal sealed record PackageRequest
{
    public required byte[] Model { get; init; }

    public required FeatureSpec Spec { get; init; }

    public required FeatureTable Data { get; init; }

    /// <summary>Where the rows came from (the CSV's path, or the snapshot's id and name), for the printout.</summary>
    public required string DataSource { get; init; }

    /// <summary><c>sha256:…</c> of the rows: the CSV file's bytes, or the snapshot's recorded digest.</summary>
    public required string DatasetDigest { get; init; }

    public required string Name { get; init; }

    public required string Version { get; init; }

    public required string AssetClass { get; init; }

    public OutputKind? OutputKind { get; init; }

    public IReadOnlyList<string>? Classes { get; init; }

    public string? NormalClass { get; init; }

    public string? FailureMode { get; init; }

    public DecisionThresholds? Thresholds { get; init; }

    public required string Author { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public int GoldenVectorCount { get; init; } = 8;

    public double GoldenTolerance { get; init; } = 1e-4;
}

/// <summary>
/// Builds a package from a model made anywhere: proposes input/outputs from the ONNX signature, computes the feature
/// statistics and the training distribution with the code training uses, runs the model with the platform's ONNX
/// Runtime for the golden vectors, fills the provenance, writes model.onnx + manifest.json and loads the result with
/// <see cref="ModelPackageLoader"/>, the gateway's own loader: a package this writes is one the gateways accept.
/// </summary>
internal static class ModelPackager
{
    /// <summary>The loaded package (the caller disposes it) and the manifest written, or why no package was written.</summary>
    public static (LoadedModelPackage? Package, string? Problem) Build(PackageRequest request, string directory)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (OnnxModelInspector.Inspect(request.Model) is { } rejection)
        {
            return (null, $"{rejection.Code}: {rejection.Detail}");
        }

        ModelManifest manifest;
        InferenceSession session;
        try
        {
            using var options = ModelPackageLoadOptions.DefaultSessionOptions();
            session = new InferenceSession(request.Model, options);
        }
        catch (OnnxRuntimeException ex)
        {
            return (null, "ONNX Runtime cannot load the model: " + ex.Message);
        }

        using (session)
        {
            var (input, outputs, problem) = OnnxSignatureProposal.Propose(session, request.Spec.Features.Count, request.OutputKind, request.Classes, request.NormalClass);
            if (problem is not null)
            {
                return (null, problem);
            }

            var (golden, goldenProblem) = GoldenVectors(session, input!, outputs!, request);
            if (goldenProblem is not null)
            {
                return (null, goldenProblem);
            }

            var set = TrainingSetOf(request);
            using var specJson = JsonDocument.Parse(request.Spec.ToJson());
            var rul = outputs!.Any(o => o.Meaning is OutputMeaning.RulCycles or OutputMeaning.RulHours);
            manifest = new ModelManifest
            {
                Name = request.Name,
                Version = request.Version,
                AssetClass = request.AssetClass,
                FeatureSpec = specJson.RootElement.Clone(),
                Input = input!,
                Outputs = outputs!,
                Thresholds = request.Thresholds ?? DefaultThresholds(rul),
                FailureMode = request.FailureMode ?? (outputs!.Any(o => o.Meaning == OutputMeaning.FailureModeClass) ? null
                    : rul ? TrainingDefaults.RulFailureMode : TrainingDefaults.FailureClassificationMode),
                FeatureStatistics = ModelPackageWriter.Statistics(set),
                TrainingDistribution = ModelPackageWriter.Distribution(set),
                GoldenVectors = new GoldenVectorSet { Tolerance = request.GoldenTolerance, Cases = golden! },
                Provenance = new ModelProvenance
                {
                    TrainingRun = "external: packaged by pdm model package (model sha256 " + DatasetDigest.Sha256Hex(request.Model) + ")",
                    DatasetDigest = request.DatasetDigest,
                    CreatedBy = request.Author,
                    CreatedAt = request.CreatedAt,
                },
            };
        }

        Directory.CreateDirectory(directory);
        var modelPath = Path.Combine(directory, ModelPackageFiles.ModelFileName);
        var manifestPath = Path.Combine(directory, ModelPackageFiles.ManifestFileName);
        File.WriteAllBytes(modelPath, request.Model);
        File.WriteAllBytes(manifestPath, manifest.ToUtf8Json());

        // Exactly what a gateway does with the package: a refusal here would be a refusal there, so nothing is left behind.
        var loaded = ModelPackageLoader.Load(directory);
        if (!loaded.Succeeded)
        {
            File.Delete(modelPath);
            File.Delete(manifestPath);
            return (null, $"the package does not load as the gateways would load it: {loaded.Rejection!.Code}: {loaded.Rejection.Detail}");
        }

        return (loaded.Package, null);
    }

    /// <summary>The same levels training writes: RUL ≤ 50/30/15 cycles, failure probability ≥ 0.3/0.5/0.8.</summary>
    private static DecisionThresholds DefaultThresholds(bool rul) => rul
        ? new DecisionThresholds { RulWatch = 50, RulAlert = 30, RulDanger = 15 }
        : new DecisionThresholds { FailureProbabilityWatch = 0.3, FailureProbabilityAlert = 0.5, FailureProbabilityDanger = 0.8 };

    private static TrainingSet TrainingSetOf(PackageRequest request)
    {
        var examples = new TrainingExample[request.Data.Rows.Count];
        for (var i = 0; i < examples.Length; i++)
        {
            var label = request.Data.Labels?[i] ?? double.NaN;
            examples[i] = new TrainingExample("rows", i, request.Data.Rows[i], (float)label, label);
        }

        return new TrainingSet(request.Spec, examples, request.DataSource, request.DatasetDigest.Replace("sha256:", string.Empty, StringComparison.Ordinal));
    }

    /// <summary>Up to <see cref="PackageRequest.GoldenVectorCount"/> complete rows spread over the data, run in one batch.</summary>
    private static (IReadOnlyList<GoldenVectorCase>? Cases, string? Problem) GoldenVectors(
        InferenceSession session, ModelInputSpec input, IReadOnlyList<ModelOutputSpec> outputs, PackageRequest request)
    {
        var complete = request.Data.Rows.Where(r => r.All(float.IsFinite)).ToList();
        if (complete.Count == 0)
        {
            return (null, $"{request.DataSource} has no row without a missing value to compute golden vectors from");
        }

        var count = Math.Min(request.GoldenVectorCount, complete.Count);
        var features = (int)input.Shape[1];
        var rows = new float[count][];
        var flat = new float[count * features];
        for (var i = 0; i < count; i++)
        {
            rows[i] = complete[(int)((long)i * complete.Count / count)];
            rows[i].CopyTo(flat, i * features);
        }

        var names = outputs.Select(o => o.Name).ToArray();
        var expected = new Dictionary<string, IReadOnlyList<double>>[count];
        for (var i = 0; i < count; i++)
        {
            expected[i] = new Dictionary<string, IReadOnlyList<double>>(StringComparer.Ordinal);
        }

        try
        {
            using var value = OrtValue.CreateTensorValueFromMemory(flat, [count, features]);
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, [input.Name], [value], names);
            for (var o = 0; o < names.Length; o++)
            {
                var values = Doubles(results[o]);
                var perRow = values.Length / count;
                for (var i = 0; i < count; i++)
                {
                    var row = values.AsSpan(i * perRow, perRow).ToArray();
                    if (!row.All(double.IsFinite))
                    {
                        return (null, string.Create(CultureInfo.InvariantCulture, $"the model's output '{names[o]}' is not finite for row {i} of the golden vectors"));
                    }

                    expected[i][names[o]] = row;
                }
            }
        }
        catch (OnnxRuntimeException ex)
        {
            return (null, "running the model on the data failed: " + ex.Message);
        }

        return (rows.Select((r, i) => new GoldenVectorCase { Input = r, Outputs = expected[i] }).ToList(), null);
    }

    private static double[] Doubles(OrtValue value)
    {
        if (value.GetTensorTypeAndShape().ElementDataType == Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int64)
        {
            return [.. value.GetTensorDataAsSpan<long>().ToArray().Select(v => (double)v)];
        }

        return [.. value.GetTensorDataAsSpan<float>().ToArray().Select(v => (double)v)];
    }
}
