using PdM.Contracts.Decisions;

namespace PdM.Edge.Inference.Tests;

/// <summary>A deterministic stand-in for the rules: Alert when the latest torque is above 60 Nm, else Healthy.</summary>
public sealed class TestFallbackDecider : IFallbackDecider
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public ValueTask<Decision> DecideAsync(FallbackRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        var alert = request.SensorValues.TryGetValue("torque_nm", out var torque) && torque > 60;
        return ValueTask.FromResult(new Decision
        {
            AssetId = request.AssetId,
            AssetClass = request.AssetClass,
            HealthState = alert ? HealthState.Alert : HealthState.Healthy,
            Confidence = 0.7,
            Provenance = new DecisionProvenance
            {
                Path = DecisionPath.Rules,
                GatewayId = request.GatewayId,
                RulesetName = "test-rules",
                RulesetVersion = "1.0.0",
                RuleName = alert ? "torque_high" : null,
            },
            WindowStart = request.WindowStart,
            WindowEnd = request.WindowEnd,
            DecidedAt = request.WindowEnd,
        });
    }
}
