using PdM.Contracts.Decisions;

namespace PdM.Testing;

/// <summary>Predictions as a gateway raises them, for tests and benchmarks that publish to the cloud themselves.</summary>
public static class TestPredictions
{
    /// <summary>An alert on one asset: a vibration reading of the last ten seconds over its limit, decided by <paramref name="provenance"/>.</summary>
    public static FailurePredicted Vibration(string site, string asset, DecisionProvenance provenance, string failureMode = "VIB") => new()
    {
        PredictionId = Guid.NewGuid(),
        SiteId = site,
        AssetId = asset,
        FailureMode = failureMode,
        Severity = FailureSeverity.Incipient,
        HealthState = HealthState.Alert,
        Confidence = 0.9,
        Evidence =
        [
            new Evidence
            {
                Signal = "vibration_rms_mm_s", Value = 7.1, Unit = "mm/s", Limit = 4.5,
                WindowStart = DateTimeOffset.UtcNow.AddSeconds(-10), WindowEnd = DateTimeOffset.UtcNow, Source = $"pdm/{site}/{asset}",
            },
        ],
        Provenance = provenance,
        OccurredAt = DateTimeOffset.UtcNow,
    };

    /// <summary>Decided by the rules of gateway <paramref name="gatewayId"/>.</summary>
    public static DecisionProvenance Rules(string gatewayId) =>
        new() { Path = DecisionPath.Rules, GatewayId = gatewayId, RulesetName = "test", RulesetVersion = "1.0.0" };
}
