using PdM.Contracts.Models;

namespace PdM.Edge.Inference;

/// <summary>A snapshot of the shadow comparison since the last report.</summary>
public sealed record ShadowStatistics(
    long ComparedRows,
    long AgreedRows,
    long CandidateFailedRows,
    double ProductionMeanBatchLatencyMs,
    double CandidateMeanBatchLatencyMs,
    double CandidateMaxBatchLatencyMs)
{
    public double AgreementRatio => ComparedRows == 0 ? 0 : (double)AgreedRows / ComparedRows;
}

/// <summary>
/// Accumulates how a candidate compares with production on the same rows: agreement on health state and
/// batch latency. Written by the slot's batcher only; snapshots and reports are taken under its lock.
/// </summary>
public sealed class ShadowEvaluator(ScorerHandle candidate, DateTimeOffset periodStart)
{
    private readonly Lock _gate = new();
    private long _compared;
    private long _agreed;
    private long _failed;
    private long _productionBatches;
    private double _productionLatency;
    private long _candidateBatches;
    private double _candidateLatency;
    private double _candidateMax;
    private DateTimeOffset _periodStart = periodStart;

    public ScorerHandle Candidate { get; } = candidate;

    public DateTimeOffset PeriodStart
    {
        get
        {
            lock (_gate)
            {
                return _periodStart;
            }
        }
    }

    /// <summary>
    /// Records one batch: <paramref name="production"/> and <paramref name="shadow"/> are the same rows in the same
    /// order. Returns the batch's compared and agreeing rows (the report period's totals reset; the metrics do not).
    /// </summary>
    public (int Compared, int Agreed) Record(ReadOnlySpan<ModelScore> production, ReadOnlySpan<ModelScore> shadow, double productionMs, double candidateMs)
    {
        int compared = 0, agreed = 0;
        lock (_gate)
        {
            _productionBatches++;
            _productionLatency += productionMs;
            _candidateBatches++;
            _candidateLatency += candidateMs;
            _candidateMax = Math.Max(_candidateMax, candidateMs);
            for (var i = 0; i < production.Length; i++)
            {
                if (production[i].Outcome != ScoreOutcome.Ok)
                {
                    continue;
                }

                if (shadow[i].Outcome != ScoreOutcome.Ok)
                {
                    _failed++;
                    continue;
                }

                compared++;
                agreed += production[i].HealthState == shadow[i].HealthState ? 1 : 0;
            }

            _compared += compared;
            _agreed += agreed;
        }

        return (compared, agreed);
    }

    public ShadowStatistics Snapshot()
    {
        lock (_gate)
        {
            return new ShadowStatistics(
                _compared,
                _agreed,
                _failed,
                _productionBatches == 0 ? 0 : _productionLatency / _productionBatches,
                _candidateBatches == 0 ? 0 : _candidateLatency / _candidateBatches,
                _candidateMax);
        }
    }

    /// <summary>Builds the report for the period ending now and starts a new period.</summary>
    public ShadowEvaluationReported TakeReport(string gatewayId, string assetClass, ModelIdentity? production, DateTimeOffset now)
    {
        lock (_gate)
        {
            var stats = Snapshot();
            var candidate = Candidate.Scorer.Identity;
            var report = new ShadowEvaluationReported
            {
                EventId = Guid.NewGuid(),
                GatewayId = gatewayId,
                AssetClass = assetClass,
                ProductionModelName = production?.Name ?? string.Empty,
                ProductionModelVersion = production?.Version ?? string.Empty,
                CandidateModelName = candidate.Name,
                CandidateModelVersion = candidate.Version,
                CandidateModelDigest = candidate.Digest,
                ComparedRows = stats.ComparedRows,
                AgreedRows = stats.AgreedRows,
                AgreementRatio = stats.AgreementRatio,
                CandidateFailedRows = stats.CandidateFailedRows,
                ProductionMeanBatchLatencyMs = stats.ProductionMeanBatchLatencyMs,
                CandidateMeanBatchLatencyMs = stats.CandidateMeanBatchLatencyMs,
                CandidateMaxBatchLatencyMs = stats.CandidateMaxBatchLatencyMs,
                PeriodStart = _periodStart,
                PeriodEnd = now,
                OccurredAt = now,
            };
            _compared = _agreed = _failed = _productionBatches = _candidateBatches = 0;
            _productionLatency = _candidateLatency = _candidateMax = 0;
            _periodStart = now;
            return report;
        }
    }
}
