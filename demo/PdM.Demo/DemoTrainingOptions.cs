using System.ComponentModel.DataAnnotations;

namespace PdM.Demo;

/// <summary>
/// Section <c>Demo:Training</c>: the demo's closing of the loop. A data scientist of the demo imports C-MAPSS into the
/// feature store, snapshots it and asks for a training run, through the same API calls <c>pdm train</c> makes.
/// </summary>
public sealed class DemoTrainingOptions
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
}
