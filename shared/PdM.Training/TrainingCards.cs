using System.Globalization;
using PdM.ModelPackage;
using PdM.ModelPackage.Cards;

namespace PdM.Training;

/// <summary>
/// The model card of a platform training run (<c>model-card.json</c> and its figures in the package): the held-out
/// figures of its cross-validation, the rules fallback's figures on the same held-out rows (<see cref="CardRules"/>),
/// and ML.NET's feature importance.
/// </summary>
public static class TrainingCards
{
    /// <param name="rulesetDirectory">The rulesets to compare with; null: those shipped beside the executable.</param>
    public static ModelCardDocument Build(
        ModelManifest manifest, TrainingSet set, TrainedTreeModel model, RulCvResult? rulCv, ClassificationCvResult? classificationCv, string source,
        string? rulesetDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(model);
        var c = CultureInfo.InvariantCulture;
        var evaluatedOn = (rulCv, classificationCv) switch
        {
            ({ } rul, _) => string.Create(c, $"{rul.Folds.Count}-fold cross-validation grouped by asset: each of the {rul.Points.Count} held-out assets scored once by a model that never saw it, cut where a test trajectory would end ({rul.CutRule})."),
            (_, { } cls) => string.Create(c, $"{cls.Folds.Count}-fold stratified cross-validation: every one of the {cls.Probabilities.Count} rows scored by a model that never saw it."),
            _ => "No held-out evaluation: the run asked for fewer than 2 folds, so there are no figures a model was not fitted on.",
        };
        var rules = Rules(manifest, set, rulCv, classificationCv, rulesetDirectory);
        return new ModelCardDocument
        {
            ModelName = manifest.Name,
            ModelVersion = manifest.Version,
            AssetClass = manifest.AssetClass,
            CreatedAt = manifest.Provenance.CreatedAt,
            Source = source,
            EvaluatedOn = evaluatedOn,
            Regression = rulCv is null ? null : ModelCardBuilder.Regression([.. rulCv.Points.Select(p => p.TrueRul)], [.. rulCv.Points.Select(p => p.PredictedRul)], "cycles"),
            Classification = classificationCv is null ? null
                : ModelCardBuilder.Classification([.. set.Examples.Select(e => e.Label > 0.5f)], classificationCv.Probabilities, classificationCv.Threshold),
            Rules = rules.Evaluation,
            RulesNote = rules.Note,
            FeatureImportance = ModelCardBuilder.Importance(model.ColumnNames, model.FeatureImportance),
            FeatureImportanceNote = "ML.NET's gain per feature, normalised to the largest.",
        };
    }

    /// <summary>The rules on the rows the figures come from: each held-out engine at its cut, or every CV-scored row.</summary>
    private static CardRulesResult Rules(ModelManifest manifest, TrainingSet set, RulCvResult? rulCv, ClassificationCvResult? classificationCv, string? rulesetDirectory)
    {
        if (rulCv is not null)
        {
            var byAssetAndTime = new Dictionary<(string, int), TrainingExample>();
            foreach (var e in set.Examples)
            {
                byAssetAndTime.TryAdd((e.Group, e.Time), e);
            }

            var rows = rulCv.Points.Select(p => Facts(set, byAssetAndTime[(p.Asset, p.CutCycle)])).ToList();
            return CardRules.ForRemainingLife(manifest.AssetClass, rows, [.. rulCv.Points.Select(p => p.TrueRul)], [.. rulCv.Points.Select(p => p.PredictedRul)],
                manifest.Thresholds, "cycles", rulesetDirectory);
        }

        if (classificationCv is not null)
        {
            return CardRules.ForClassifier(manifest.AssetClass, [.. set.Examples.Select(e => Facts(set, e))], [.. set.Examples.Select(e => e.Label > 0.5f)],
                classificationCv.Probabilities, classificationCv.Threshold, rulesetDirectory);
        }

        return new CardRulesResult(null, "Rules not evaluated: with no held-out rows there is nothing to compare the model and the rules on.");
    }

    /// <summary>A row's facts: its features by the spec's names (the names the rulesets read), exact where known.</summary>
    private static Dictionary<string, double> Facts(TrainingSet set, TrainingExample example)
    {
        var facts = new Dictionary<string, double>(set.FeatureCount, StringComparer.Ordinal);
        for (var i = 0; i < set.FeatureCount; i++)
        {
            facts[set.FeatureNames[i]] = example.ExactFeatures is { } exact ? exact[i] : example.Features[i];
        }

        return facts;
    }
}
