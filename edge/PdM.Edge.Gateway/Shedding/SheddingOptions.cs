using System.ComponentModel.DataAnnotations;

namespace PdM.Edge.Gateway.Shedding;

/// <summary>
/// Section <c>Gateway:Shedding</c>: the gateway's inference budget. When the pipeline falls behind (its oldest
/// unprocessed message is older than <see cref="MaxLagMs"/>) or deciding takes more than <see cref="ScoringBudget"/> of
/// its time, it sheds model work in order: level 1 scores a healthy asset's window only every
/// <see cref="EveryKthWindow"/>-th window, level 2 leaves healthy assets to the rules. It steps back one level once
/// both figures stayed under <see cref="RecoverBelow"/> of their thresholds for <see cref="RecoverSeconds"/>.
/// </summary>
public sealed class SheddingOptions : IValidatableObject
{
    /// <summary>Off: the gateway never sheds, however far behind it falls (the level stays 0).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The lag the site tolerates: age of the oldest message the pipeline has not finished with.</summary>
    [Range(100, 3_600_000)]
    public double MaxLagMs { get; set; } = 10_000;

    /// <summary>
    /// Share (0–1] of the pipeline's one thread it may spend deciding windows (model runs and rules), measured per
    /// evaluation interval; 1 puts no budget beyond the lag (the pipeline can never spend more than all of its time).
    /// </summary>
    [Range(0.01, 1)]
    public double ScoringBudget { get; set; } = 1;

    /// <summary>Level 1 scores every k-th window of a healthy asset with the model; the others go to the rules.</summary>
    [Range(2, 1000)]
    public int EveryKthWindow { get; set; } = 4;

    /// <summary>An asset judged Alert or Danger within this long is not healthy, whatever its latest state.</summary>
    [Range(0, 86_400)]
    public double RecentAlertSeconds { get; set; } = 600;

    /// <summary>How often lag and scoring share are measured and the level reconsidered (one step per interval at most).</summary>
    [Range(50, 60_000)]
    public double EvaluationIntervalMs { get; set; } = 1000;

    /// <summary>Hysteresis: both figures must stay below this share of their thresholds to count as recovered.</summary>
    [Range(0.05, 0.95)]
    public double RecoverBelow { get; set; } = 0.5;

    /// <summary>…for this long before the level steps down by one (and as long again for the next step).</summary>
    [Range(0.1, 3600)]
    public double RecoverSeconds { get; set; } = 30;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RecoverSeconds * 1000 < EvaluationIntervalMs)
        {
            yield return new ValidationResult(
                $"Gateway:Shedding:RecoverSeconds ({RecoverSeconds}) must span at least one Gateway:Shedding:EvaluationIntervalMs ({EvaluationIntervalMs} ms)",
                [nameof(RecoverSeconds), nameof(EvaluationIntervalMs)]);
        }
    }
}
