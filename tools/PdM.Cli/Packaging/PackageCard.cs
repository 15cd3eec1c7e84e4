using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using PdM.ModelPackage;
using PdM.ModelPackage.Cards;
using PdM.Training;

namespace PdM.Cli.Packaging;

/// <summary>
/// The model card of a package built from a model made elsewhere, when the data has labels: the loaded model (the
/// platform's ONNX Runtime, the session the gateway would use) scores every labelled row, and the card holds
/// predicted against actual remaining life or the precision–recall of the failure class, and the rules fallback of the
/// asset class on the same rows (<see cref="CardRules"/>, shared with training's cards), its facts read from the CSV's
/// columns by name.
/// </summary>
internal static class PackageCard
{
    private const int BatchRows = 1024;

    /// <summary>The card, or null when the data has no labels or the model has no output a card can judge.</summary>
    /// <param name="rulesetDirectory">The rulesets to compare with; null: those shipped beside <c>pdm</c>.</param>
    public static ModelCardDocument? Build(LoadedModelPackage package, FeatureTable data, string dataSource, string? rulesetDirectory = null)
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
        var unit = output.Meaning == OutputMeaning.RulHours ? "hours" : "cycles";
        var threshold = m.Thresholds.FailureProbabilityAlert ?? 0.5;
        var facts = rows.Select(i => Facts(data, i)).ToList();
        var rules = regression
            ? CardRules.ForRemainingLife(m.AssetClass, facts, actual, scores, m.Thresholds, unit, rulesetDirectory)
            : CardRules.ForClassifier(m.AssetClass, facts, [.. actual.Select(a => a >= 0.5)], scores, threshold, rulesetDirectory);
        return new ModelCardDocument
        {
            ModelName = m.Name,
            ModelVersion = m.Version,
            AssetClass = m.AssetClass,
            CreatedAt = DateTimeOffset.UtcNow,
            Source = "pdm model package (a model made outside the platform; " + m.Provenance.CreatedBy + ")",
            EvaluatedOn = string.Create(CultureInfo.InvariantCulture,
                $"{rows.Count} labelled rows of {dataSource}, scored by the packaged model with the platform's ONNX Runtime. Whether the model saw these rows while it learned is not known to the platform: figures on training rows flatter it."),
            Regression = regression ? ModelCardBuilder.Regression(actual, scores, unit) : null,
            Classification = regression ? null : ModelCardBuilder.Classification([.. actual.Select(a => a >= 0.5)], scores, threshold),
            Rules = rules.Evaluation,
            RulesNote = rules.Note,
            FeatureImportanceNote = "Not exposed: an ONNX graph made elsewhere carries no importance the platform can read.",
        };
    }

    /// <summary>A row's facts for the rules: its features, then its other numeric columns, by column name.</summary>
    private static Dictionary<string, double> Facts(FeatureTable data, int row)
    {
        var facts = new Dictionary<string, double>(data.FeatureNames.Count + data.OtherColumns.Count, StringComparer.Ordinal);
        for (var f = 0; f < data.FeatureNames.Count; f++)
        {
            facts[data.FeatureNames[f]] = data.Rows[row][f];
        }

        for (var o = 0; o < data.OtherColumns.Count; o++)
        {
            facts.TryAdd(data.OtherColumns[o], data.OtherRows[row][o]);
        }

        return facts;
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
