using System.ComponentModel.DataAnnotations;

namespace PdM.Demo;

/// <summary>
/// Section <c>Demo:Training</c>: the demo's closing of the loop. A data scientist of the demo imports C-MAPSS into the
/// feature store, snapshots it and asks for a training run, through the same API calls <c>pdm train</c> makes; once
/// that model is in Production it trains a <see cref="Challenger"/> on the same rows.
/// </summary>
public sealed class DemoTrainingOptions : IValidatableObject
{
    public const string Section = "Demo:Training";

    public bool Enabled { get; set; } = true;

    /// <summary>Seconds of rules-only decisions before training starts, so the console shows both paths.</summary>
    [Range(0, 3600)]
    public int DelaySeconds { get; set; } = 15;

    /// <summary>C-MAPSS run-to-failure file; relative paths are looked up from the executable's folder upwards.</summary>
    [Required]
    public string TrainFile { get; set; } = "datasets/cmapss/train_FD001.txt";

    [Required]
    public string ModelName { get; set; } = "fd001-rul";

    [Required]
    public string ModelVersion { get; set; } = "1.0.0";

    /// <summary>The gateway asset class the model is for; its feature spec is the gateway's (Gateway:FeatureSpecs:{class}).</summary>
    [Required]
    public string AssetClass { get; set; } = "turbofan";

    /// <summary>The data scientist the demo acts as: the run's requester and so the model's uploader.</summary>
    [Required]
    public string RequestedBy { get; set; } = "demo-data-scientist";

    [Range(10, 2000)]
    public int NumberOfTrees { get; set; } = 200;

    /// <summary>Seeds the first run (ML.NET and its evaluation cuts); the challenger has a seed of its own.</summary>
    [Range(0, int.MaxValue)]
    public int Seed { get; set; } = 42;

    /// <summary>Section <c>Demo:Training:Challenger</c>: the second version, trained once the first decides in Production.</summary>
    public DemoChallengerOptions Challenger { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Challenger.Enabled && string.Equals(Challenger.ModelVersion, ModelVersion, StringComparison.Ordinal))
        {
            yield return new ValidationResult(
                $"the challenger needs a version of its own, not the first model's {ModelVersion}: the registry refuses a version registered twice",
                [nameof(Challenger) + ":" + nameof(DemoChallengerOptions.ModelVersion)]);
        }

        if (Challenger.Enabled && Challenger.NumberOfTrees == NumberOfTrees && Challenger.Seed == Seed)
        {
            yield return new ValidationResult(
                "the challenger would be the first model again (same rows, trees and seed): give it another NumberOfTrees or Seed",
                [nameof(Challenger)]);
        }
    }
}

/// <summary>
/// Section <c>Demo:Training:Challenger</c>: the model lifecycle a plant lives with. Once the first version decides in
/// Production, the demo's data scientist trains a second version of the same model on the same snapshot, with other
/// hyperparameters; the demo's approver puts it in Shadow (never Production: the registry wants shadow evidence for
/// that), so the gateway scores it beside the Production model without letting it decide.
/// </summary>
public sealed class DemoChallengerOptions
{
    public bool Enabled { get; set; } = true;

    [Required]
    [RegularExpression(@"^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$", ErrorMessage = "ModelVersion must be a semantic version such as 1.1.0")]
    public string ModelVersion { get; set; } = "1.1.0";

    /// <summary>Fewer trees than the first model by default: a cheap run on a small machine, and an honest difference to compare.</summary>
    [Range(10, 2000)]
    public int NumberOfTrees { get; set; } = 50;

    [Range(0, int.MaxValue)]
    public int Seed { get; set; } = 7;

    /// <summary>How often the data scientist asks the registry whether the first model is in Production yet.</summary>
    [Range(0.2, 60)]
    public double PollSeconds { get; set; } = 2;
}
