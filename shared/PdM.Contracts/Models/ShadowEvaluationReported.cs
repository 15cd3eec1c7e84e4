namespace PdM.Contracts.Models;

/// <summary>
/// Periodic statistics of a shadow (candidate) model scored on the same feature vectors as the production model,
/// without driving decisions: the evidence for promoting or discarding the candidate.
/// </summary>
public sealed record ShadowEvaluationReported
{
    public required Guid EventId { get; init; }

    public required string GatewayId { get; init; }

    /// <summary>The site the gateway serves: the registry's promotion gate counts evidence per site. Null from gateways that predate it (not counted).</summary>
    public string? SiteId { get; init; }

    public required string AssetClass { get; init; }

    public required string ProductionModelName { get; init; }

    public required string ProductionModelVersion { get; init; }

    public required string CandidateModelName { get; init; }

    public required string CandidateModelVersion { get; init; }

    public required string CandidateModelDigest { get; init; }

    /// <summary>Rows both models scored successfully and whose health states were compared.</summary>
    public required long ComparedRows { get; init; }

    /// <summary>Compared rows where both models reached the same health state.</summary>
    public required long AgreedRows { get; init; }

    /// <summary>AgreedRows / ComparedRows; 0 when nothing was compared.</summary>
    public required double AgreementRatio { get; init; }

    /// <summary>Rows the candidate failed on (run failure or invalid output) while production scored them.</summary>
    public required long CandidateFailedRows { get; init; }

    public required double ProductionMeanBatchLatencyMs { get; init; }

    public required double CandidateMeanBatchLatencyMs { get; init; }

    public required double CandidateMaxBatchLatencyMs { get; init; }

    public required DateTimeOffset PeriodStart { get; init; }

    public required DateTimeOffset PeriodEnd { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}
