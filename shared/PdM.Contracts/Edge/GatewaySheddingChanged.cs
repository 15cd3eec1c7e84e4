namespace PdM.Contracts.Edge;

/// <summary>
/// A gateway's inference budget changed its shedding level (<c>Gateway:Shedding</c>): it started shedding because it
/// fell behind (level 0 → 1), shed more (1 → 2), shed less (2 → 1) or stopped (→ 0) once it had kept up for a while.
/// Level 1 scores a healthy asset's window with the model only every k-th window, level 2 leaves healthy assets to the
/// rules; a window of an asset in Alert or Danger is never shed, and no message is dropped.
/// </summary>
public sealed record GatewaySheddingChanged
{
    public required Guid EventId { get; init; }

    public required string SiteId { get; init; }

    public required string GatewayId { get; init; }

    /// <summary>The level from now on: 0 (not shedding), 1 or 2.</summary>
    public required int Level { get; init; }

    public required int PreviousLevel { get; init; }

    /// <summary>
    /// Why: <c>lag</c> (the oldest unprocessed message was older than the tolerated lag), <c>scoring_budget</c> (deciding
    /// took more of the pipeline's time than its budget) or <c>recovered</c> (both back under their thresholds for the
    /// recovery period).
    /// </summary>
    public required string Reason { get; init; }

    /// <summary>Age of the oldest message the pipeline had not finished with, when the level changed.</summary>
    public required double LagMs { get; init; }

    /// <summary>The tolerated lag (<c>Gateway:Shedding:MaxLagMs</c>).</summary>
    public required double MaxLagMs { get; init; }

    /// <summary>Share (0–1) of the last evaluation interval the pipeline spent deciding windows.</summary>
    public required double ScoringShare { get; init; }

    /// <summary>The scoring budget (<c>Gateway:Shedding:ScoringBudget</c>), a share of the pipeline's one thread.</summary>
    public required double ScoringBudget { get; init; }

    /// <summary>Decisions shed since shedding started (the whole episode's when it stops), by every reason.</summary>
    public required long ShedDecisions { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
