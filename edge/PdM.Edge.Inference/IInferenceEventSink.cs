using PdM.Contracts.Models;

namespace PdM.Edge.Inference;

/// <summary>
/// Where model lifecycle events go (the gateway journals them for the uplink). Called on a slot's batcher
/// thread: implementations hand the event on and return; they must not block or throw.
/// </summary>
public interface IInferenceEventSink
{
    void ModelRolledBack(ModelRolledBack rolledBack);

    void ShadowEvaluationReported(ShadowEvaluationReported report);

    /// <summary>A model's scored rows crossed the drift threshold (once per crossing).</summary>
    void ModelDriftDetected(ModelDriftDetected drift);
}

/// <summary>Drops events: for hosts that only want decisions.</summary>
public sealed class NullInferenceEventSink : IInferenceEventSink
{
    public static NullInferenceEventSink Instance { get; } = new();

    public void ModelRolledBack(ModelRolledBack rolledBack)
    {
    }

    public void ShadowEvaluationReported(ShadowEvaluationReported report)
    {
    }

    public void ModelDriftDetected(ModelDriftDetected drift)
    {
    }
}
