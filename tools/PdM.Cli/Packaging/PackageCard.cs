using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using PdM.ModelPackage;
using PdM.ModelPackage.Cards;

namespace PdM.Cli.Packaging;

/// <summary>
/// The model card of a package built from a model made elsewhere, when the data has labels: the loaded model (the
/// platform's ONNX Runtime, the session the gateway would use) scores every labelled row, and the card holds
/// predicted against actual remaining life or the precision–recall of the failure class.
/// </summary>
internal static class PackageCard
{
    private const int BatchRows = 1024;

    /// <summary>The card, or null when the data has no labels or the model has no output a card can judge.</summary>
    public static ModelCardDocument? Build(LoadedModelPackage package, FeatureTable data, string dataSource)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Labels is not { } labels)
        {
            return null;
        }

        var m = package.Manifest;
        var output = m.Outputs.FirstOrDefault(o => o.Meaning is OutputMeaning.RulCycles or OutputMeaning.RulHours or OutputMeaning.FailureProbability or OutputMeaning.FailureModeClass);
        if (output is null)
        {
            return null;
        }

        var rows = Enumerable.Range(0, data.Rows.Count).Where(i => double.IsFinite(labels[i]) && data.Rows[i].All(float.IsFinite)).ToList();
        var scores = Score(package.Session, m, output, [.. rows.Select(i => data.Rows[i])]);
        var actual = rows.Select(i => labels[i]).ToList();
        var regression = output.Meaning is OutputMeaning.RulCycles or OutputMeaning.RulHours;
        return new ModelCardDocument
        {
            ModelName = m.Name,
            ModelVersion = m.Version,
            AssetClass = m.AssetClass,
            CreatedAt = DateTimeOffset.UtcNow,
            Source = "pdm model package (a model made outside the platform; " + m.Provenance.CreatedBy + ")",
            EvaluatedOn = string.Create(CultureInfo.InvariantCulture,
                $"{rows.Count} labelled rows of {dataSource}, scored by the packaged model with the platform's ONNX Runtime. Whether the model saw these rows while it learned is not known to the platform: figures on training rows flatter it."),
            Regression = regression ? ModelCardBuilder.Regression(actual, scores, output.Meaning == OutputMeaning.RulHours ? "hours" : "cycles") : null,
            Classification = regression ? null : ModelCardBuilder.Classification([.. actual.Select(a => a >= 0.5)], scores, m.Thresholds.FailureProbabilityAlert ?? 0.5),
            RulesNote = "Not evaluated on these rows: the rules run on the gateway over its live feature windows and sensor readings, which a CSV of model features does not carry. Their record at the sites is the live precision (GET /api/live-precision), and in shadow the gateway compares this model with whatever decides there.",
            FeatureImportanceNote = "Not exposed: an ONNX graph made elsewhere carries no importance the platform can read.",
        };
    }

    /// <summary>The output per row: the remaining life, or the failure probability (1 − the normal class's for class outputs).</summary>
    private static List<double> Score(InferenceSession session, ModelManifest manifest, ModelOutputSpec output, IReadOnlyList<float[]> rows)
    {
        var scores = new List<double>(rows.Count);
        var features = (int)manifest.Input.Shape[1];
        var normal = output.Classes?.ToList().IndexOf(output.NormalClass ?? string.Empty) ?? -1;
        for (var start = 0; start < rows.Count; start += BatchRows)
        {
            var count = Math.Min(BatchRows, rows.Count - start);
            var flat = new float[count * features];
            for (var i = 0; i < count; i++)
            {
                rows[start + i].CopyTo(flat, i * features);
            }

            using var value = OrtValue.CreateTensorValueFromMemory(flat, [count, features]);
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, [manifest.Input.Name], [value], [output.Name]);
            var values = results[0].GetTensorDataAsSpan<float>();
            var width = values.Length / count;
            for (var i = 0; i < count; i++)
            {
                scores.Add(output.Meaning == OutputMeaning.FailureModeClass && normal >= 0
                    ? 1 - values[(i * width) + normal]
                    : values[i * width]);
            }
        }

        return scores;
    }
}
