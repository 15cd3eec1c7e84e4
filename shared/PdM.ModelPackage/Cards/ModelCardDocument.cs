using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdM.ModelPackage.Cards;

/// <summary>
/// The numbers of a model card (<c>model-card.json</c> beside a package's manifest): how the model did on labelled rows
/// and what it leans on. Training and <c>pdm model package --label</c> write it; the registry keeps it with the version
/// and serves it with its figures (<see cref="ModelCardPage"/>), adding the gateways' shadow agreement as it accrues.
/// </summary>
public sealed record ModelCardDocument
{
    public const int CurrentSchemaVersion = 1;

    /// <summary>The file name beside <c>manifest.json</c>.</summary>
    public const string FileName = "model-card.json";

    /// <summary>Largest card the registry keeps (the points are sampled to stay far below).</summary>
    public const int MaxBytes = 1024 * 1024;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    public required string ModelName { get; init; }

    public required string ModelVersion { get; init; }

    public required string AssetClass { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Who made it: a platform training run, or <c>pdm model package</c> for a model made elsewhere.</summary>
    public required string Source { get; init; }

    /// <summary>Which rows the figures come from and whether the model saw them while it learned: what to trust them for.</summary>
    public required string EvaluatedOn { get; init; }

    /// <summary>A remaining-life model's figures; null for a classifier or without labels.</summary>
    public RegressionEvaluation? Regression { get; init; }

    /// <summary>A failure classifier's figures; null for a RUL model or without labels.</summary>
    public ClassificationEvaluation? Classification { get; init; }

    /// <summary>The rules fallback's figures on the same rows as the model's; null with <see cref="RulesNote"/> saying why.</summary>
    public RulesEvaluation? Rules { get; init; }

    /// <summary>Why the rules' figures on the same rows are absent, or which rows they leave out.</summary>
    public string? RulesNote { get; init; }

    /// <summary>Per feature, largest first, normalised to the largest; null when the model does not expose it.</summary>
    public IReadOnlyList<FeatureImportance>? FeatureImportance { get; init; }

    /// <summary>Why <see cref="FeatureImportance"/> is absent, when it is.</summary>
    public string? FeatureImportanceNote { get; init; }

    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, ModelCardJsonContext.Default.ModelCardDocument);

    /// <summary>A card as written by <see cref="ToUtf8Json"/>; null with the reason when it is not one.</summary>
    public static (ModelCardDocument? Card, string? Problem) Parse(ReadOnlySpan<byte> json)
    {
        if (json.Length > MaxBytes)
        {
            return (null, $"model-card.json is {json.Length} bytes; at most {MaxBytes} are kept");
        }

        try
        {
            var card = JsonSerializer.Deserialize(json, ModelCardJsonContext.Default.ModelCardDocument);
            return card is null
                ? (null, "model-card.json is null")
                : card.SchemaVersion != CurrentSchemaVersion
                    ? (null, $"model-card.json has schemaVersion {card.SchemaVersion}; this registry reads {CurrentSchemaVersion}")
                    : (card, null);
        }
        catch (JsonException ex)
        {
            return (null, "model-card.json is not a model card: " + ex.Message);
        }
    }
}

/// <summary>Predicted against actual remaining life, overall and per band of actual remaining life.</summary>
public sealed record RegressionEvaluation
{
    /// <summary><c>cycles</c> or <c>hours</c>.</summary>
    public required string Unit { get; init; }

    public required int Rows { get; init; }

    public required double Rmse { get; init; }

    public required double Mae { get; init; }

    /// <summary>Mean of predicted − actual: above zero, the model says the asset has longer than it has (late, costly).</summary>
    public required double Bias { get; init; }

    /// <summary>Up to <see cref="ModelCardBuilder.MaxPoints"/> rows, evenly sampled.</summary>
    public required IReadOnlyList<PredictionPoint> Points { get; init; }

    public required IReadOnlyList<ErrorBand> Bands { get; init; }
}

public sealed record PredictionPoint(double Actual, double Predicted);

/// <summary>The error of the rows whose actual remaining life is in [<see cref="From"/>, <see cref="To"/>).</summary>
public sealed record ErrorBand
{
    public required double From { get; init; }

    /// <summary>Null: open-ended.</summary>
    public double? To { get; init; }

    public required int Rows { get; init; }

    public required double Mae { get; init; }

    public required double Rmse { get; init; }

    public required double Bias { get; init; }
}

/// <summary>Precision and recall of the failure class at the decision threshold, and the precision–recall curve.</summary>
public sealed record ClassificationEvaluation
{
    public required int Rows { get; init; }

    public required int Positives { get; init; }

    public required double Threshold { get; init; }

    public required double Precision { get; init; }

    public required double Recall { get; init; }

    public required double F1 { get; init; }

    /// <summary>Area under the precision–recall curve (average precision).</summary>
    public required double AveragePrecision { get; init; }

    public required int TruePositives { get; init; }

    public required int FalsePositives { get; init; }

    public required int FalseNegatives { get; init; }

    public required int TrueNegatives { get; init; }

    /// <summary>Up to <see cref="ModelCardBuilder.MaxPoints"/> points, by falling threshold.</summary>
    public required IReadOnlyList<PrecisionRecallPoint> Curve { get; init; }
}

public sealed record PrecisionRecallPoint(double Threshold, double Precision, double Recall);

public sealed record FeatureImportance(string Feature, double Importance);

/// <summary>
/// The rules fallback (the asset class's ruleset) on the rows the model's figures come from, judged against the same
/// truth as the model and beside the model on exactly the rows the rules could be evaluated on: what the approver
/// weighs is "is the model better than what decides without it".
/// </summary>
public sealed record RulesEvaluation
{
    /// <summary><c>name@version</c> of the ruleset evaluated.</summary>
    public required string Ruleset { get; init; }

    /// <summary>When a row counts as flagged by the rules (e.g. "health state Alert or worse").</summary>
    public required string RulesFlagWhen { get; init; }

    /// <summary>When a row counts as flagged by the model (e.g. "failure probability ≥ 0.5").</summary>
    public required string ModelFlagWhen { get; init; }

    /// <summary>What a row's truth is (e.g. "labelled failure", "actual RUL ≤ 30 cycles").</summary>
    public required string Truth { get; init; }

    /// <summary>Rows the rules were evaluated on (every fact the ruleset reads present and finite).</summary>
    public required int Rows { get; init; }

    /// <summary>Rows of the model's figures the rules could not be evaluated on (a fact missing).</summary>
    public required int RowsNotEvaluated { get; init; }

    /// <summary>The facts missing on those rows.</summary>
    public IReadOnlyList<string> MissingFacts { get; init; } = [];

    public required ConfusionCounts RulesCounts { get; init; }

    /// <summary>The model on the same <see cref="Rows"/>, flagged as <see cref="ModelFlagWhen"/> says.</summary>
    public required ConfusionCounts ModelCounts { get; init; }

    /// <summary>RUL models: the remaining life at or under which a row is due, and where that number comes from.</summary>
    public double? HorizonRul { get; init; }

    public string? HorizonSource { get; init; }

    /// <summary>RUL models: share of rows each flags per band of actual remaining life (the bands of the error figure).</summary>
    public IReadOnlyList<RulesBand>? Bands { get; init; }
}

/// <summary>A confusion matrix against the truth, with its precision, recall and F1 (0 when undefined).</summary>
public sealed record ConfusionCounts
{
    public required int TruePositives { get; init; }

    public required int FalsePositives { get; init; }

    public required int FalseNegatives { get; init; }

    public required int TrueNegatives { get; init; }

    public required double Precision { get; init; }

    public required double Recall { get; init; }

    public required double F1 { get; init; }

    public static ConfusionCounts Of(int truePositives, int falsePositives, int falseNegatives, int trueNegatives)
    {
        var precision = truePositives + falsePositives == 0 ? 0 : (double)truePositives / (truePositives + falsePositives);
        var recall = truePositives + falseNegatives == 0 ? 0 : (double)truePositives / (truePositives + falseNegatives);
        return new ConfusionCounts
        {
            TruePositives = truePositives,
            FalsePositives = falsePositives,
            FalseNegatives = falseNegatives,
            TrueNegatives = trueNegatives,
            Precision = precision,
            Recall = recall,
            F1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall),
        };
    }
}

/// <summary>Rows whose actual remaining life is in [<see cref="From"/>, <see cref="To"/>) and how many each side flags.</summary>
public sealed record RulesBand
{
    public required double From { get; init; }

    /// <summary>Null: open-ended.</summary>
    public double? To { get; init; }

    public required int Rows { get; init; }

    public required int RulesFlagged { get; init; }

    public required int ModelFlagged { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    WriteIndented = true)]
[JsonSerializable(typeof(ModelCardDocument))]
internal sealed partial class ModelCardJsonContext : JsonSerializerContext;
