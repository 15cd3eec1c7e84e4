using PdM.Contracts.Decisions;

namespace PdM.Contracts.Models;

/// <summary>
/// The periodic health assessment of one asset (ISO 13374), whichever path decided: the stream that lets
/// operators see model and rules decisions side by side, and that outcome labels are joined to.
/// </summary>
public sealed record AssetHealthAssessed
{
    /// <summary>Stable id; the gateway derives it from the site, the asset and the window end, like <see cref="Decisions.FailurePredicted.PredictionId"/>.</summary>
    public required Guid AssessmentId { get; init; }

    public required string SiteId { get; init; }

    public required string AssetId { get; init; }

    public required string AssetClass { get; init; }

    public required HealthState HealthState { get; init; }

    /// <summary>0..1, when the deciding path estimates it.</summary>
    public double? FailureProbability { get; init; }

    public RulEstimate? RemainingUsefulLife { get; init; }

    public string? FailureMode { get; init; }

    public required DecisionProvenance Provenance { get; init; }

    public required DateTimeOffset WindowStart { get; init; }

    public required DateTimeOffset WindowEnd { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
