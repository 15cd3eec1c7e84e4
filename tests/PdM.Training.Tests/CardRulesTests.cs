using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PdM.ModelPackage.Cards;
using PdM.Testing;

namespace PdM.Training.Tests;

/// <summary>
/// The rules fallback's figures on a model card, on the rows the model's figures use: an AI4I classifier's card counts
/// what the shipped milling ruleset's own thresholds (read here from its JSON, applied here by hand) say about every
/// row; a C-MAPSS FD001 card compares both sides at the RUL horizon, per band too, and its page draws them; rows
/// without the ruleset's facts are counted and named, never scored as healthy.
/// </summary>
public sealed partial class CardRulesTests : IDisposable
{
    private static readonly string Rulesets = Path.Combine(LocalDependencies.RepositoryRoot, "shared", "PdM.Rules", "rulesets");
    private readonly string _dir = Directory.CreateTempSubdirectory("pdm-card-rules-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void An_AI4I_classifier_card_carries_the_rules_counts_the_ruleset_thresholds_give_on_every_row()
    {
        var run = TrainingRuns.RunAi4i(new Ai4iRunOptions
        {
            DataFile = TestData.Ai4iFile,
            OutputDirectory = _dir,
            Training = TestData.SmallClassifier(),
            Folds = 2,
            RunId = "ai4i-rules",
        });
        var card = ModelCardDocument.Parse(File.ReadAllBytes(Path.Combine(run.PackageDirectory, ModelCardDocument.FileName))).Card!;

        var rules = card.Rules!;
        Assert.Equal("ai4i2020-physics@1.0.0", rules.Ruleset);
        Assert.Equal(10_000, rules.Rows);
        Assert.Equal(0, rules.RowsNotEvaluated);
        Assert.Null(card.RulesNote);

        // The same rows by hand, from the data set's own numbers (double, as the gateway gives them to the rules): the
        // limits come from the ruleset file, the arithmetic from its derived facts.
        var limits = MillingLimits();
        int tp = 0, fp = 0, fn = 0, tn = 0;
        foreach (var row in TestData.Ai4i.Rows)
        {
            var (air, process, speed, torque, wear, type) = (row.AirTemperatureK, row.ProcessTemperatureK, row.RotationalSpeedRpm, row.TorqueNm, row.ToolWearMin, Ai4iDataset.TypeCode(row.ProductType));
            var power = torque * speed * 2 * Math.PI / 60;
            var fires = (process - air < limits["heat-dissipation"][0] && speed < limits["heat-dissipation"][1])
                || power < limits["power-too-low"][0] || power > limits["power-too-high"][0]
                || (type == 1 && wear * torque > limits["overstrain-l"][1])
                || (type == 2 && wear * torque > limits["overstrain-m"][1])
                || (type == 3 && wear * torque > limits["overstrain-h"][1])
                || wear >= limits["tool-wear"][0];
            var failed = row.MachineFailure;
            (tp, fp, fn, tn) = (fires, failed) switch
            {
                (true, true) => (tp + 1, fp, fn, tn),
                (true, false) => (tp, fp + 1, fn, tn),
                (false, true) => (tp, fp, fn + 1, tn),
                _ => (tp, fp, fn, tn + 1),
            };
        }

        Assert.Equal((tp, fp, fn, tn), (rules.RulesCounts.TruePositives, rules.RulesCounts.FalsePositives, rules.RulesCounts.FalseNegatives, rules.RulesCounts.TrueNegatives));
        Assert.Equal((double)tp / (tp + fp), rules.RulesCounts.Precision, 12);
        Assert.Equal((double)tp / (tp + fn), rules.RulesCounts.Recall, 12);
        Assert.Equal((302, 107, 37, 9554), (tp, fp, fn, tn)); // the ruleset's published AI4I figures (shared/PdM.Rules/README.md)

        // The model beside them on the same rows, at the card's threshold, agrees with the card's own figures.
        var model = rules.ModelCounts;
        Assert.Equal(card.Classification!.TruePositives, model.TruePositives);
        Assert.Equal(card.Classification.FalsePositives, model.FalsePositives);

        // The page: the rules' point on the model's precision–recall curve, and their row in the table.
        var page = ModelCardPage.Render(card, [], []);
        var curve = Plot(page, "precision-recall");
        Assert.Contains("data-point=\"rules\"", curve, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"<th>rules</th><td>health state Watch or worse (any rule fired)</td><td>{rules.RulesCounts.Precision:0.###}</td>"), page, StringComparison.Ordinal);
        Assert.Contains("data-point=\"rules\"", File.ReadAllText(Path.Combine(run.PackageDirectory, "card", "precision-recall.svg")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_row_that_breaks_a_milling_limit_is_flagged_and_a_row_missing_a_fact_is_counted_and_named()
    {
        Dictionary<string, double> Row(double torque, double wear) => new(StringComparer.Ordinal)
        {
            ["air_temperature_k"] = 298.1, ["process_temperature_k"] = 308.6, ["rotational_speed_rpm"] = 1500,
            ["torque_nm"] = torque, ["tool_wear_min"] = wear, ["product_type"] = 1,
        };
        var powerFailure = Row(torque: 3, wear: 10);   // 3 N·m at 1500 r/min is 471 W: below the 3500 W the ruleset allows
        var healthy = Row(torque: 40, wear: 100);       // 6283 W, 4000 min·N·m, ΔT 10.5 K: nothing fires
        var noTorque = Row(torque: 40, wear: 100);
        noTorque.Remove("torque_nm");

        var result = CardRules.ForClassifier("milling-machine", [powerFailure, healthy, noTorque], [true, false, true], [0.9, 0.1, 0.9], 0.5, Rulesets);

        var rules = result.Evaluation!;
        Assert.Equal(2, rules.Rows);
        Assert.Equal((1, 0, 0, 1), (rules.RulesCounts.TruePositives, rules.RulesCounts.FalsePositives, rules.RulesCounts.FalseNegatives, rules.RulesCounts.TrueNegatives));
        Assert.Equal(1, rules.RowsNotEvaluated);
        Assert.Equal(new[] { "torque_nm" }, rules.MissingFacts);
        Assert.Equal("Rules could not be evaluated on 1 of 3 rows: missing facts torque_nm. Both sides' figures here are on the other 2 rows.", result.Note);
    }

    [Fact]
    public void Rows_without_any_of_the_ruleset_facts_or_an_asset_class_without_rules_give_a_note_saying_exactly_why()
    {
        IReadOnlyDictionary<string, double> row = new Dictionary<string, double> { ["f0"] = 1, ["f1"] = 2 };

        var noFacts = CardRules.ForRemainingLife("turbofan", [row, row], [10, 200], [12, 190], null, "cycles", Rulesets);
        Assert.Null(noFacts.Evaluation);
        Assert.Equal("Rules could not be evaluated on any of the 2 rows: ruleset turbofan-hpc-degradation@1.0.0 reads s4_mean, s11_mean, s12_mean, and the rows lack s11_mean, s12_mean, s4_mean. "
            + "The rules run on the gateway over its live feature windows; give the rows those columns to compare here.", noFacts.Note);

        var noRuleset = CardRules.ForClassifier("paper-machine", [row], [true], [0.9], 0.5, Rulesets);
        Assert.Null(noRuleset.Evaluation);
        Assert.StartsWith("Rules not evaluated: no valid ruleset for asset class 'paper-machine'", noRuleset.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void An_FD001_card_compares_model_and_rules_at_the_alert_horizon_per_band_and_its_page_draws_the_rules()
    {
        var run = TrainingRuns.RunCmapss(new CmapssRunOptions
        {
            TrainFile = TestData.TrainFd001,
            OutputDirectory = _dir,
            Training = TestData.SmallRegression() with { NumberOfTrees = 20 },
            RunId = "fd001-rules",
        });
        var card = ModelCardDocument.Parse(File.ReadAllBytes(Path.Combine(run.PackageDirectory, ModelCardDocument.FileName))).Card!;

        var rules = card.Rules!;
        Assert.Equal("turbofan-hpc-degradation@1.0.0", rules.Ruleset);
        Assert.Equal(100, rules.Rows); // every held-out engine at its cut has a full 30-cycle window
        Assert.Equal(30, rules.HorizonRul); // the run's manifest: rulAlert 30
        Assert.Contains("rulAlert", rules.HorizonSource, StringComparison.Ordinal);
        foreach (var counts in new[] { rules.RulesCounts, rules.ModelCounts })
        {
            Assert.Equal(100, counts.TruePositives + counts.FalsePositives + counts.FalseNegatives + counts.TrueNegatives);
        }

        var due = run.Cv!.Points.Count(p => p.TrueRul <= 30);
        Assert.Equal(due, rules.RulesCounts.TruePositives + rules.RulesCounts.FalseNegatives);
        Assert.Equal(run.Cv.Points.Count(p => p.TrueRul <= 30 && p.PredictedRul <= 30), rules.ModelCounts.TruePositives);
        Assert.Equal(card.Regression!.Bands.Select(b => (b.From, b.Rows)), rules.Bands!.Select(b => (b.From, b.Rows)));

        // The degradation rules fire near failure, not on young engines: the nearest band is flagged more than the farthest.
        var near = rules.Bands![0];
        var far = rules.Bands[^1];
        Assert.True((double)near.RulesFlagged / near.Rows > (double)far.RulesFlagged / far.Rows,
            $"rules flag {near.RulesFlagged}/{near.Rows} near failure and {far.RulesFlagged}/{far.Rows} far from it");

        var page = ModelCardPage.Render(card, [], []);
        Assert.Equal(rules.Bands.Count, Regex.Count(Plot(page, "rules-flagged-by-rul-band"), "<rect class=\"mark\""));
        Assert.Contains("<th>rules</th><td>health state Alert or worse (what raises a work order)</td>", page, StringComparison.Ordinal);
        Assert.Contains("<th>model</th><td>predicted RUL ≤ 30 cycles</td>", page, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(run.PackageDirectory, "card", "rules-flagged-by-rul-band.svg")));
    }

    /// <summary>Each rule's numeric limits, in the order its expression names them, from the shipped ruleset file.</summary>
    private static Dictionary<string, double[]> MillingLimits()
    {
        var file = Directory.GetFiles(Path.Combine(Rulesets, "milling-machine"), "*.json").Single();
        using var json = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return json.RootElement.GetProperty("workflow").GetProperty("Rules").EnumerateArray().ToDictionary(
            r => r.GetProperty("RuleName").GetString()!,
            r => Limit().Matches(r.GetProperty("Expression").GetString()!).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray());
    }

    private static string Plot(string page, string name) =>
        SvgElement().Matches(page).Select(m => m.Value).Single(s => s.Contains($"data-plot=\"{name}\"", StringComparison.Ordinal));

    [GeneratedRegex(@"[<>=]=?\s*(\d+(?:\.\d+)?)")]
    private static partial Regex Limit();

    [GeneratedRegex("<svg[\\s\\S]*?</svg>")]
    private static partial Regex SvgElement();
}
