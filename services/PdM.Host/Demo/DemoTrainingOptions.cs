using System.ComponentModel.DataAnnotations;

namespace PdM.Host.Demo;

/// <summary>
/// Section <c>Demo:Training</c>: the all-in-one demo's closing of the loop. Off unless configured (appsettings.Demo.json
/// turns it on): a real platform trains when a data scientist asks (<c>pdm train</c>), not at start.
/// </summary>
public sealed class DemoTrainingOptions
{
    public const string Section = "Demo:Training";

    public bool Enabled { get; set; }

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

    [Required]
    public string AssetClass { get; set; } = "turbofan";

    /// <summary>The person the training run is for: the model's uploader (the auto-approver is someone else).</summary>
    [Required]
    public string RequestedBy { get; set; } = "demo-data-scientist";

    [Range(10, 2000)]
    public int NumberOfTrees { get; set; } = 200;
}
