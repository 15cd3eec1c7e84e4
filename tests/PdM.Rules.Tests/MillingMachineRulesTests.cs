using PdM.Contracts.Decisions;

namespace PdM.Rules.Tests;

/// <summary>The AI4I 2020 physics ruleset at its boundaries. Its limits are strict inequalities, as the data set states them.</summary>
public sealed class MillingMachineRulesTests
{
    private const double L = 1;
    private const double M = 2;
    private const double H = 3;

    // A healthy operating point: ΔT 10 K, 1500 r/min × 40 N·m ≈ 6283 W, fresh tool.
    private static RulesDecision Mill(
        double air = 300, double process = 310, double rpm = 1500, double torque = 40, double wear = 10, double type = L) =>
        Shipped.Evaluate("milling-machine",
            ("air_temperature_k", air), ("process_temperature_k", process), ("rotational_speed_rpm", rpm),
            ("torque_nm", torque), ("tool_wear_min", wear), ("product_type", type));

    private static string[] Fired(RulesDecision decision) => [.. decision.Firings.Select(f => f.RuleName)];

    [Fact]
    public void A_healthy_operating_point_fires_nothing()
    {
        var decision = Mill();

        Assert.Equal(HealthState.Healthy, decision.HealthState);
        Assert.Equal((7, 7), (decision.RulesEvaluated, decision.RulesTotal));
        Assert.Equal(0.95, decision.Confidence, 6);
    }

    [Fact]
    public void Heat_dissipation_fires_below_8_6_K_and_1380_rpm_and_not_at_either_limit()
    {
        Assert.Equal(["heat-dissipation"], Fired(Mill(air: 300, process: 308.59, rpm: 1379)));
        Assert.Empty(Fired(Mill(air: 300, process: 308.6, rpm: 1379)));
        Assert.Empty(Fired(Mill(air: 300, process: 308.59, rpm: 1380)));

        var decision = Mill(air: 300, process: 308.59, rpm: 1379);
        Assert.Equal(("HDF", HealthState.Danger, (FailureSeverity?)FailureSeverity.Critical), (decision.FailureMode, decision.HealthState, decision.Severity));
        Assert.Equal(8.59, decision.Evidence[0].Value, 9);
        Assert.Equal(("temperature_difference_k", "K", (double?)8.6), (decision.Evidence[0].Signal, decision.Evidence[0].Unit, decision.Evidence[0].Limit));
    }

    [Theory]
    [InlineData(3500, "power-too-low", -1)]
    [InlineData(9000, "power-too-high", +1)]
    public void Power_fires_just_beyond_its_limit_and_not_at_it(double limitW, string rule, int direction)
    {
        const double Rpm = 1500;
        var omega = Rpm * 2 * Math.PI / 60;
        var torqueAtLimit = limitW / omega;

        var beyond = Mill(rpm: Rpm, torque: torqueAtLimit * (1 + (direction * 1e-6)));
        Assert.Equal([rule], Fired(beyond));
        Assert.Equal("PWF", beyond.FailureMode);
        Assert.Equal(limitW, beyond.Evidence[0].Value, 0);
        Assert.Equal(("power_w", "W"), (beyond.Evidence[0].Signal, beyond.Evidence[0].Unit));

        Assert.Empty(Fired(Mill(rpm: Rpm, torque: torqueAtLimit * (1 - (direction * 1e-6)))));
    }

    [Theory]
    [InlineData(L, 11000, "overstrain-l")]
    [InlineData(M, 12000, "overstrain-m")]
    [InlineData(H, 13000, "overstrain-h")]
    public void Overstrain_fires_above_the_limit_of_its_product_type_only(double type, double limit, string rule)
    {
        // 1300 r/min keeps the power inside 3500-9000 W for these torques; ΔT 10 K keeps heat dissipation quiet.
        const double Wear = 200;
        var torque = limit / Wear;

        Assert.Empty(Fired(Mill(rpm: 1300, torque: torque, wear: Wear, type: type)));
        var decision = Mill(rpm: 1300, torque: torque + 0.001, wear: Wear, type: type);
        Assert.Equal([rule], Fired(decision));
        Assert.Equal(("OSF", (double?)limit), (decision.FailureMode, decision.Evidence[0].Limit));

        // The next type up tolerates more: the same strain on it is fine (H is the top, so wrap to L for it).
        var other = type == H ? L : type + 1;
        Assert.Equal(type == H ? ["overstrain-l"] : [], Fired(Mill(rpm: 1300, torque: torque + 0.001, wear: Wear, type: other)));
    }

    [Fact]
    public void Tool_wear_fires_at_220_minutes_and_not_below()
    {
        Assert.Empty(Fired(Mill(wear: 219)));
        var decision = Mill(wear: 220);
        Assert.Equal(("tool-wear", "TWF", HealthState.Alert, (FailureSeverity?)FailureSeverity.Degraded),
            (decision.RuleName, decision.FailureMode, decision.HealthState, decision.Severity));
    }

    [Fact]
    public void Overstrain_outranks_tool_wear_when_both_fire()
    {
        var decision = Mill(rpm: 1300, torque: 60, wear: 230, type: L);

        Assert.Equal("overstrain-l", decision.RuleName);
        Assert.Equal(["overstrain-l", "tool-wear"], Fired(decision));
        Assert.Contains(decision.Evidence, e => e.Signal == "tool_wear_min" && e.Limit == 220);
    }
}
