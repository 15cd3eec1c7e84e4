using System.Globalization;
using PdM.Contracts.Decisions;
using PdM.Testing;

namespace PdM.Rules.Tests;

/// <summary>
/// The turbofan fallback on real engines: NASA C-MAPSS train_FD001 (100 engines run to failure), with the facts the
/// gateway's turbofan spec gives the rules, the 30-cycle means of s4 (T50), s11 (Ps30) and s12 (phi).
/// </summary>
public sealed class TurbofanRulesTests
{
    private const int Window = 30;

    private static readonly Lazy<IReadOnlyList<EngineWindow>> Windows = new(LoadWindows);

    [Fact]
    public void Early_life_windows_of_every_engine_are_healthy_or_at_most_a_rare_watch()
    {
        var early = Windows.Value.Where(w => w.Rul > 125).ToList();
        Assert.True(early.Count > 5000);

        var decisions = early.Select(Decide).ToList();
        Assert.DoesNotContain(decisions, d => d.HealthState >= HealthState.Alert);
        var watches = decisions.Count(d => d.HealthState == HealthState.Watch);
        Assert.True(watches < early.Count / 100, $"{watches} of {early.Count} early-life windows raised Watch");
    }

    [Fact]
    public void Every_engine_is_in_alert_or_danger_at_its_last_cycle_before_failure()
    {
        var last = Windows.Value.Where(w => w.Rul == 0).ToList();
        Assert.Equal(100, last.Count);

        foreach (var window in last)
        {
            var decision = Decide(window);
            Assert.True(decision.HealthState >= HealthState.Alert, $"engine {window.Unit} at failure: {decision.HealthState}");
            Assert.Equal("PDE", decision.FailureMode);
            Assert.Equal("turbofan-hpc-degradation", decision.RulesetName);
        }
    }

    [Fact]
    public void Most_of_the_last_fifteen_cycles_trip_alert_and_danger_only_comes_late()
    {
        var late = Windows.Value.Where(w => w.Rul <= 15).Select(Decide).ToList();
        var alertOrWorse = late.Count(d => d.HealthState >= HealthState.Alert);
        Assert.True(alertOrWorse >= late.Count * 0.9, $"{alertOrWorse} of {late.Count} late windows in alert");

        var dangerBeforeFiftyCycles = Windows.Value.Where(w => w.Rul > 50).Count(w => Decide(w).HealthState == HealthState.Danger);
        Assert.Equal(0, dangerBeforeFiftyCycles);
    }

    [Fact]
    public void Evidence_quotes_the_three_signals_against_their_limits()
    {
        var window = Windows.Value.First(w => w.Rul == 0 && Decide(w).HealthState == HealthState.Danger);
        var decision = Decide(window);

        Assert.Equal("hpc-degradation-danger", decision.RuleName);
        var danger = decision.Evidence.Where(e => e.Limit is 47.85 or 1418 or 520.6).ToList();
        Assert.Equal(["s11_mean", "s4_mean", "s12_mean"], danger.Select(e => e.Signal));
        Assert.Equal(window.S4Mean, danger[1].Value, 9);
        Assert.Equal("°R", danger[1].Unit);
    }

    private static RulesDecision Decide(EngineWindow window) =>
        Shipped.Evaluate("turbofan", ("s4_mean", window.S4Mean), ("s11_mean", window.S11Mean), ("s12_mean", window.S12Mean));

    private static List<EngineWindow> LoadWindows()
    {
        var units = new SortedDictionary<int, List<double[]>>();
        var path = Path.Combine(LocalDependencies.RepositoryRoot, "datasets", "cmapss", "train_FD001.txt");
        foreach (var line in File.ReadLines(path))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
            {
                continue;
            }

            var row = fields.Select(f => double.Parse(f, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
            var unit = (int)row[0];
            if (!units.TryGetValue(unit, out var rows))
            {
                units[unit] = rows = [];
            }

            rows.Add(row);
        }

        // Columns: unit, cycle, setting1-3, s1..s21, so s_k is column 4 + k.
        var windows = new List<EngineWindow>();
        foreach (var (unit, rows) in units)
        {
            for (var end = Window; end <= rows.Count; end++)
            {
                var span = rows.GetRange(end - Window, Window);
                windows.Add(new EngineWindow(unit, rows.Count - end, span.Average(r => r[8]), span.Average(r => r[15]), span.Average(r => r[16])));
            }
        }

        return windows;
    }

    private sealed record EngineWindow(int Unit, int Rul, double S4Mean, double S11Mean, double S12Mean);
}
