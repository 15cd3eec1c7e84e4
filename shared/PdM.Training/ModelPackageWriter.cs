using System.Text.Json;
using System.Text.Json.Serialization;
using PdM.ModelPackage;

namespace PdM.Training;

/// <summary>What the package says about itself beyond the model: identity, decision thresholds, provenance.</summary>
public sealed record PackageDescription
{
    public required string Name { get; init; }

    public string Version { get; init; } = "1.0.0";

    public required string AssetClass { get; init; }

    public required DecisionThresholds Thresholds { get; init; }

    /// <summary>ISO 14224 failure mode the model predicts (manifest <c>failureMode</c>): what its work orders are for.</summary>
    public string? FailureMode { get; init; }

    public required string TrainingRunId { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public string CreatedBy { get; init; } = "PdM.Training";

    /// <summary>How many training rows become golden vectors (spread evenly over the set).</summary>
    public int GoldenVectorCount { get; init; } = 8;

    /// <summary>Absolute tolerance the loader applies to the golden vectors.</summary>
    public double GoldenTolerance { get; init; } = 1e-4;
}

/// <summary>Writes model.onnx + manifest.json in the PdM.ModelPackage format.</summary>
public static class ModelPackageWriter
{
    public const string InputName = "features";
    public const string RulOutput = "rul";
    public const string ProbabilityOutput = "failure_probability";

    public static ModelManifest BuildManifest(TrainedTreeModel model, TrainingSet set, PackageDescription description)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(description);
        var regression = model.Options.Task == TrainingTask.RulRegression;
        var outputName = regression ? RulOutput : ProbabilityOutput;
        using var specJson = JsonDocument.Parse(set.Spec.ToJson());

        var golden = new List<GoldenVectorCase>();
        var count = Math.Min(description.GoldenVectorCount, set.Examples.Count);
        var rows = new List<float[]>(count);
        for (var i = 0; i < count; i++)
        {
            rows.Add(set.Examples[(int)((long)i * set.Examples.Count / count)].Features);
        }

        var expected = model.Predict(rows);
        for (var i = 0; i < rows.Count; i++)
        {
            golden.Add(new GoldenVectorCase
            {
                Input = rows[i],
                Outputs = new Dictionary<string, IReadOnlyList<double>> { [outputName] = [expected[i]] },
            });
        }

        return new ModelManifest
        {
            Name = description.Name,
            Version = description.Version,
            AssetClass = description.AssetClass,
            FeatureSpec = specJson.RootElement.Clone(),
            Input = new ModelInputSpec { Name = InputName, Shape = [-1, set.FeatureCount] },
            Outputs = [new ModelOutputSpec { Name = outputName, Meaning = regression ? OutputMeaning.RulCycles : OutputMeaning.FailureProbability }],
            Thresholds = description.Thresholds,
            FailureMode = description.FailureMode,
            FeatureStatistics = Statistics(set),
            TrainingDistribution = Distribution(set),
            GoldenVectors = new GoldenVectorSet { Tolerance = description.GoldenTolerance, Cases = golden },
            Provenance = new ModelProvenance
            {
                TrainingRun = description.TrainingRunId,
                DatasetDigest = DatasetDigest.ForManifest(set.DatasetSha256),
                CreatedBy = description.CreatedBy,
                CreatedAt = description.CreatedAt,
            },
        };
    }

    /// <summary>Exports the ONNX graph and writes the package folder; returns the manifest written.</summary>
    public static ModelManifest Write(string directory, TrainedTreeModel model, TrainingSet set, PackageDescription description)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var manifest = BuildManifest(model, set, description);
        var onnx = OnnxTreeExporter.Export(model.Ensemble, new OnnxExportOptions
        {
            InputName = InputName,
            OutputName = manifest.Outputs[0].Name,
            GraphName = description.Name,
            DocString = description.Name + " " + description.Version + ": " + model.Options,
            Metadata = new Dictionary<string, string>
            {
                ["pdm.training_run"] = description.TrainingRunId,
                ["pdm.dataset_digest"] = manifest.Provenance.DatasetDigest,
            },
        });

        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, ModelPackageFiles.ModelFileName), onnx);
        File.WriteAllBytes(Path.Combine(directory, ModelPackageFiles.ManifestFileName),
            JsonSerializer.SerializeToUtf8Bytes(manifest, TrainingJsonContext.Default.ModelManifest));
        return manifest;
    }

    /// <summary>The training rows' histogram per feature over quantile bins (manifest <c>trainingDistribution</c>).</summary>
    public static TrainingDistribution Distribution(TrainingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var columns = new double[set.FeatureCount][];
        for (var f = 0; f < columns.Length; f++)
        {
            var column = new double[set.Examples.Count];
            for (var i = 0; i < column.Length; i++)
            {
                column[i] = set.Examples[i].Features[f];
            }

            columns[f] = column;
        }

        return TrainingDistribution.FromColumns(set.FeatureNames, columns);
    }

    /// <summary>Min, max, mean and population std of each feature over the training rows (NaN ignored).</summary>
    public static IReadOnlyList<FeatureStatistics> Statistics(TrainingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var result = new List<FeatureStatistics>(set.FeatureCount);
        for (var f = 0; f < set.FeatureCount; f++)
        {
            double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
            var n = 0;
            foreach (var e in set.Examples)
            {
                var x = (double)e.Features[f];
                if (double.IsFinite(x))
                {
                    min = Math.Min(min, x);
                    max = Math.Max(max, x);
                    sum += x;
                    n++;
                }
            }

            var mean = n == 0 ? 0 : sum / n;
            double sq = 0;
            foreach (var e in set.Examples)
            {
                var x = (double)e.Features[f];
                if (double.IsFinite(x))
                {
                    sq += (x - mean) * (x - mean);
                }
            }

            result.Add(new FeatureStatistics
            {
                Name = set.FeatureNames[f],
                Min = n == 0 ? 0 : min,
                Max = n == 0 ? 0 : max,
                Mean = mean,
                Std = n == 0 ? 0 : Math.Sqrt(sq / n),
            });
        }

        return result;
    }
}

/// <summary>Same JSON conventions as PdM.ModelPackage's reader: camelCase, nulls omitted, indented.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(ModelManifest))]
internal sealed partial class TrainingJsonContext : JsonSerializerContext;

/// <summary>ISO 14224 failure modes a trained package predicts when the training command names none.</summary>
public static class TrainingDefaults
{
    /// <summary>Parameter deviation: a RUL model tracks degradation of the asset's parameters toward failure.</summary>
    public const string RulFailureMode = "PDE";

    /// <summary>Breakdown: a binary failure classifier says a failure is coming, not which.</summary>
    public const string FailureClassificationMode = "BRD";
}
