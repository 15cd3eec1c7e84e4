using PdM.Contracts.Decisions;

namespace PdM.Rules.Tests;

public sealed class ShippedRulesetsTests
{
    private const string Vibration = "vibration_rms_mm_s";
    private const string Bearing = "bearing_temperature_c";

    [Fact]
    public void Every_shipped_ruleset_loads_without_problems()
    {
        var store = Shipped.Store;

        Assert.Empty(store.Problems);
        Assert.Equal(
            ["centrifugal-pump", "milling-machine", "rotating-g1-flexible", "rotating-g1-rigid", "rotating-g2-flexible", "rotating-g2-rigid", "turbofan"],
            store.Active.Keys.Order(StringComparer.Ordinal));
    }

    // ISO 10816-3:2009 Annex A: boundaries B/C and C/D in mm/s r.m.s.
    [Theory]
    [InlineData("rotating-g1-rigid", 4.5, 7.1)]
    [InlineData("rotating-g1-flexible", 7.1, 11.0)]
    [InlineData("rotating-g2-rigid", 2.8, 4.5)]
    [InlineData("rotating-g2-flexible", 4.5, 7.1)]
    [InlineData("centrifugal-pump", 2.8, 4.5)]
    public void Vibration_zone_c_and_d_fire_at_their_boundaries_and_not_below(string assetClass, double zoneC, double zoneD)
    {
        var zoneB = Shipped.Evaluate(assetClass, (Vibration, zoneC - 0.01), (Bearing, 60));
        Assert.Equal(HealthState.Healthy, zoneB.HealthState);
        Assert.Empty(zoneB.Firings);

        var atC = Shipped.Evaluate(assetClass, (Vibration, zoneC), (Bearing, 60));
        Assert.Equal(HealthState.Alert, atC.HealthState);
        Assert.Equal(FailureSeverity.Degraded, atC.Severity);
        Assert.Equal("VIB", atC.FailureMode);
        Assert.Equal("vibration-zone-c", atC.RuleName);
        var evidence = Assert.Single(atC.Evidence);
        Assert.Equal((Vibration, zoneC, "mm/s", (double?)zoneC), (evidence.Signal, evidence.Value, evidence.Unit, evidence.Limit));

        var topOfC = Shipped.Evaluate(assetClass, (Vibration, zoneD - 0.01), (Bearing, 60));
        Assert.Equal("vibration-zone-c", topOfC.RuleName);

        var atD = Shipped.Evaluate(assetClass, (Vibration, zoneD), (Bearing, 60));
        Assert.Equal(HealthState.Danger, atD.HealthState);
        Assert.Equal(FailureSeverity.Critical, atD.Severity);
        Assert.Equal("vibration-zone-d", Assert.Single(atD.Firings).RuleName);
        Assert.Equal(zoneD, Assert.Single(atD.Evidence).Limit);
    }

    [Theory]
    [InlineData("rotating-g1-rigid")]
    [InlineData("rotating-g1-flexible")]
    [InlineData("rotating-g2-rigid")]
    [InlineData("rotating-g2-flexible")]
    [InlineData("centrifugal-pump")]
    public void Bearing_temperature_alarm_and_trip_fire_at_85_and_95_degrees(string assetClass)
    {
        Assert.Equal(HealthState.Healthy, Shipped.Evaluate(assetClass, (Vibration, 1.0), (Bearing, 84.99)).HealthState);

        var alarm = Shipped.Evaluate(assetClass, (Vibration, 1.0), (Bearing, 85));
        Assert.Equal(("bearing-temperature-alarm", "OHE", HealthState.Alert, (FailureSeverity?)FailureSeverity.Degraded),
            (alarm.RuleName, alarm.FailureMode, alarm.HealthState, alarm.Severity));

        Assert.Equal("bearing-temperature-alarm", Shipped.Evaluate(assetClass, (Vibration, 1.0), (Bearing, 94.99)).RuleName);

        var trip = Shipped.Evaluate(assetClass, (Vibration, 1.0), (Bearing, 95));
        Assert.Equal(("bearing-temperature-trip", "OHE", HealthState.Danger, (FailureSeverity?)FailureSeverity.Critical),
            (trip.RuleName, trip.FailureMode, trip.HealthState, trip.Severity));
        Assert.Equal("°C", Assert.Single(trip.Evidence).Unit);
    }

    [Fact]
    public void Pump_discharge_pressure_low_fires_at_its_limit_only_while_running()
    {
        static RulesDecision Pump(double pressure, double speed) =>
            Shipped.Evaluate("centrifugal-pump", (Vibration, 1.0), (Bearing, 60), ("discharge_pressure_bar", pressure), ("shaft_speed_rpm", speed));

        Assert.Equal(HealthState.Healthy, Pump(4.01, 1480).HealthState);
        var low = Pump(4.0, 1480);
        Assert.Equal(("discharge-pressure-low", "ELP", HealthState.Alert), (low.RuleName, low.FailureMode, low.HealthState));
        Assert.Equal(["discharge_pressure_bar", "shaft_speed_rpm"], low.Evidence.Select(e => e.Signal));

        Assert.Equal(HealthState.Healthy, Pump(0.2, 599).HealthState);
        Assert.Equal("discharge-pressure-low", Pump(0.2, 600).RuleName);
    }

    [Fact]
    public void Pump_discharge_pressure_high_fires_at_its_limit_and_not_below()
    {
        static RulesDecision Pump(double pressure) =>
            Shipped.Evaluate("centrifugal-pump", (Vibration, 1.0), (Bearing, 60), ("discharge_pressure_bar", pressure), ("shaft_speed_rpm", 1480));

        Assert.Equal(HealthState.Healthy, Pump(7.99).HealthState);
        var high = Pump(8.0);
        Assert.Equal(("discharge-pressure-high", "PDE", HealthState.Alert, (double?)8.0),
            (high.RuleName, high.FailureMode, high.HealthState, Assert.Single(high.Evidence).Limit));
    }

    [Fact]
    public void Worst_severity_wins_and_evidence_lists_every_rule_that_fired()
    {
        // Zone C vibration (Degraded) and a bearing over its trip limit (Critical) at once.
        var decision = Shipped.Evaluate("rotating-g2-rigid", (Vibration, 3.0), (Bearing, 96));

        Assert.Equal(HealthState.Danger, decision.HealthState);
        Assert.Equal(FailureSeverity.Critical, decision.Severity);
        Assert.Equal("OHE", decision.FailureMode);
        Assert.Equal("bearing-temperature-trip", decision.RuleName);
        Assert.Equal(0.9, decision.Confidence);
        Assert.Equal(["bearing-temperature-trip", "vibration-zone-c"], decision.Firings.Select(f => f.RuleName));
        Assert.Equal([Bearing, Vibration], decision.Evidence.Select(e => e.Signal));
        Assert.Equal(("iso10816-3-g2-rigid", "1.0.0"), (decision.RulesetName, decision.RulesetVersion));
    }

    [Fact]
    public void Evidence_carries_the_input_window_and_source()
    {
        var start = Shipped.Now.AddMinutes(-10);
        var input = new RulesInput
        {
            AssetId = "pump-7",
            AssetClass = "centrifugal-pump",
            Facts = new Dictionary<string, double> { [Vibration] = 5.0 },
            WindowStart = start,
            WindowEnd = Shipped.Now,
            Source = "pdm/site-1/pump-7/telemetry",
        };

        var decision = Shipped.Evaluator.Evaluate(input);

        var evidence = Assert.Single(decision.Evidence);
        Assert.Equal((start, Shipped.Now, "pdm/site-1/pump-7/telemetry"), (evidence.WindowStart, evidence.WindowEnd, evidence.Source));
        Assert.Equal("pump-7", decision.AssetId);
    }

    [Fact]
    public void Missing_facts_are_reported_and_lower_the_confidence_of_a_healthy_answer()
    {
        var decision = Shipped.Evaluate("centrifugal-pump", (Vibration, 1.0), (Bearing, double.NaN), ("unrelated", 1));

        Assert.Equal(HealthState.Healthy, decision.HealthState);
        Assert.Equal([Bearing, "discharge_pressure_bar", "shaft_speed_rpm"], decision.MissingFacts);

        // Only the two vibration rules could be checked, out of six.
        Assert.Equal((2, 6), (decision.RulesEvaluated, decision.RulesTotal));
        Assert.Equal(0.8 * 2 / 6, decision.Confidence, 6);
    }

    [Fact]
    public void An_asset_class_without_a_ruleset_still_gets_an_answer()
    {
        var decision = Shipped.Evaluate("wind-turbine", (Vibration, 50));

        Assert.Equal(HealthState.Healthy, decision.HealthState);
        Assert.Equal(0, decision.Confidence);
        Assert.Null(decision.RulesetName);
        Assert.Contains("wind-turbine", Assert.Single(decision.Notes), StringComparison.Ordinal);
    }
}
