using System.Globalization;
using PdM.ModelPackage;
using PdM.ModelPackage.Cards;

namespace PdM.Training;

/// <summary>
/// The model card of a platform training run (<c>model-card.json</c> and its figures in the package): the held-out
/// figures of its cross-validation and ML.NET's feature importance.
/// </summary>
public static class TrainingCards
{
    /// <summary>What a card says about the rules when it has no figures for them.</summary>
    public const string RulesNote =
        "Not evaluated on these rows: the rules run on the gateway over its live feature windows and sensor readings, which the training rows do not carry. "
        + "Their record at the sites is the live precision (GET /api/live-precision); in shadow the gateway compares this model with whatever decides there.";

    public static ModelCardDocument Build(ModelManifest manifest, TrainingSet set, TrainedTreeModel model, RulCvResult? rulCv, ClassificationCvResult? classificationCv, string source)
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
            RulesNote = RulesNote,
            FeatureImportance = ModelCardBuilder.Importance(model.ColumnNames, model.FeatureImportance),
            FeatureImportanceNote = "ML.NET's gain per feature, normalised to the largest.",
        };
    }
}
