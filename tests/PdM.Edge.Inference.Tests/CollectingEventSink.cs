using System.Collections.Concurrent;
using PdM.Contracts.Models;

namespace PdM.Edge.Inference.Tests;

public sealed class CollectingEventSink : IInferenceEventSink
{
    public ConcurrentQueue<ModelRolledBack> RolledBack { get; } = new();

    public ConcurrentQueue<ShadowEvaluationReported> ShadowReports { get; } = new();

    public ConcurrentQueue<ModelDriftDetected> Drift { get; } = new();

    public void ModelDriftDetected(ModelDriftDetected drift) => Drift.Enqueue(drift);

    public void ModelRolledBack(ModelRolledBack rolledBack) => RolledBack.Enqueue(rolledBack);

    public void ShadowEvaluationReported(ShadowEvaluationReported report) => ShadowReports.Enqueue(report);
}
