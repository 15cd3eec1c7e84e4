using System.Globalization;
using PdM.Contracts.Decisions;
using PdM.ModelPackage;
using PdM.ModelPackage.Cards;
using PdM.Rules;

namespace PdM.Training;

/// <summary>The rules' figures for a card, or null with the reason; <see cref="Note"/> also names rows left out.</summary>
public sealed record CardRulesResult(RulesEvaluation? Evaluation, string? Note);

/// <summary>
/// The rules fallback (PdM.Rules, the ruleset of the card's asset class) evaluated on exactly the rows a model card's
/// figures come from, beside the model on the same rows: one place for training's cards and <c>pdm model package</c>'s.
/// A row's facts are its named values (the feature spec's features, and for a CSV its other numeric columns), the
/// names the rulesets read. A row missing a fact the ruleset reads is counted and left out, never scored as healthy.
/// </summary>
public static class CardRules
{
    /// <summary>
    /// The remaining life at or under which a row is "due" when the manifest sets no <c>rulAlert</c>. 30 cycles because
    /// that is the platform's own RUL decision policy (training writes RulAlert = 30: Alert, the state at which the
    /// gateway sends a prediction and Maintenance raises a work order), and it sits inside the turbofan ruleset's Alert
    /// band (most FD001 engines in their last 50 cycles), so neither side is judged on a horizon it was not made for.
    /// </summary>
    public const double DefaultDueHorizonRul = 30;

    /// <summary>
    /// The rules' state that counts as "flagged" for a RUL model: Alert, the state at which the gateway publishes a
    /// prediction and Maintenance raises a work order (DecisionStage); Watch only shows on a dashboard.
    /// </summary>
    public const HealthState RulFlagState = HealthState.Alert;

    /// <summary>The rulesets shipped beside the executable (PdM.Rules copies its <c>rulesets/</c> to every output).</summary>
    public static string DefaultRulesetDirectory => Path.Combine(AppContext.BaseDirectory, "rulesets");

    /// <summary>
    /// A failure classifier: truth = labelled failure; the model flags a row at probability ≥ <paramref name="threshold"/>;
    /// the rules flag it when their health state is anything but Healthy (every milling rule is Alert or Danger).
    /// </summary>
    public static CardRulesResult ForClassifier(
        string assetClass, IReadOnlyList<IReadOnlyDictionary<string, double>> rows, IReadOnlyList<bool> failed,
        IReadOnlyList<double> probability, double threshold, string? rulesetDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(failed);
        ArgumentNullException.ThrowIfNull(probability);
        var c = CultureInfo.InvariantCulture;
        return Evaluate(assetClass, rows, rulesetDirectory, (ruleset, states) =>
        {
            int[] rulesCounts = new int[4], modelCounts = new int[4];
            var evaluated = 0;
            for (var i = 0; i < rows.Count; i++)
            {
                if (states[i] is not { } state || !double.IsFinite(probability[i]))
                {
                    continue;
                }

                evaluated++;
                Count(rulesCounts, state != HealthState.Healthy, failed[i]);
                Count(modelCounts, probability[i] >= threshold, failed[i]);
            }

            return new RulesEvaluation
            {
                Ruleset = ruleset,
                RulesFlagWhen = "health state Watch or worse (any rule fired)",
                ModelFlagWhen = string.Create(c, $"failure probability ≥ {threshold:0.###}"),
                Truth = "the row is labelled a failure",
                Rows = evaluated,
                RowsNotEvaluated = rows.Count - evaluated,
                RulesCounts = Counts(rulesCounts),
                ModelCounts = Counts(modelCounts),
            };
        });
    }

    /// <summary>
    /// A remaining-life model: the rules predict no RUL, so both are judged at one horizon H (the manifest's
    /// <c>rulAlert</c>, else <see cref="DefaultDueHorizonRul"/>): truth = actual RUL ≤ H ("due"); the model flags a row
    /// when its predicted RUL ≤ H; the rules flag it at <see cref="RulFlagState"/> or worse. Also per band of actual
    /// remaining life (<see cref="ModelCardBuilder.BandEdges"/>), how many rows each flags.
    /// </summary>
    public static CardRulesResult ForRemainingLife(
        string assetClass, IReadOnlyList<IReadOnlyDictionary<string, double>> rows, IReadOnlyList<double> actualRul,
        IReadOnlyList<double> predictedRul, DecisionThresholds? thresholds, string unit, string? rulesetDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(actualRul);
        ArgumentNullException.ThrowIfNull(predictedRul);
        var c = CultureInfo.InvariantCulture;
        var horizon = thresholds?.RulAlert ?? DefaultDueHorizonRul;
        var horizonSource = thresholds?.RulAlert is not null
            ? "the manifest's rulAlert, the remaining life at which the model's decision turns Alert and raises a work order"
            : string.Create(c, $"the manifest sets no rulAlert; {DefaultDueHorizonRul:0} {unit}, the platform's RUL Alert threshold");
        return Evaluate(assetClass, rows, rulesetDirectory, (ruleset, states) =>
        {
            int[] rulesCounts = new int[4], modelCounts = new int[4];
            var edges = ModelCardBuilder.BandEdges;
            int[] bandRows = new int[edges.Count], bandRules = new int[edges.Count], bandModel = new int[edges.Count];
            var evaluated = 0;
            for (var i = 0; i < rows.Count; i++)
            {
                if (states[i] is not { } state || !double.IsFinite(actualRul[i]) || !double.IsFinite(predictedRul[i]))
                {
                    continue;
                }

                evaluated++;
                var due = actualRul[i] <= horizon;
                var rulesFlag = state >= RulFlagState;
                var modelFlag = predictedRul[i] <= horizon;
                Count(rulesCounts, rulesFlag, due);
                Count(modelCounts, modelFlag, due);
                var band = edges.Count - 1;
                while (band > 0 && actualRul[i] < edges[band])
                {
                    band--;
                }

                bandRows[band]++;
                bandRules[band] += rulesFlag ? 1 : 0;
                bandModel[band] += modelFlag ? 1 : 0;
            }

            return new RulesEvaluation
            {
                Ruleset = ruleset,
                RulesFlagWhen = $"health state {RulFlagState} or worse (what raises a work order)",
                ModelFlagWhen = string.Create(c, $"predicted RUL ≤ {horizon:0.##} {unit}"),
                Truth = string.Create(c, $"actual RUL ≤ {horizon:0.##} {unit} (due)"),
                Rows = evaluated,
                RowsNotEvaluated = rows.Count - evaluated,
                RulesCounts = Counts(rulesCounts),
                ModelCounts = Counts(modelCounts),
                HorizonRul = horizon,
                HorizonSource = horizonSource,
                Bands = [.. Enumerable.Range(0, edges.Count).Where(b => bandRows[b] > 0).Select(b => new RulesBand
                {
                    From = edges[b],
                    To = b + 1 < edges.Count ? edges[b + 1] : null,
                    Rows = bandRows[b],
                    RulesFlagged = bandRules[b],
                    ModelFlagged = bandModel[b],
                })],
            };
        });
    }

    /// <summary>
    /// Runs the asset class's ruleset on every row (a state, or null when a fact it reads is missing), then lets
    /// <paramref name="judge"/> count; explains instead when there is no ruleset or no row carries its facts.
    /// </summary>
    private static CardRulesResult Evaluate(
        string assetClass, IReadOnlyList<IReadOnlyDictionary<string, double>> rows, string? rulesetDirectory,
        Func<string, HealthState?[], RulesEvaluation> judge)
    {
        ArgumentNullException.ThrowIfNull(assetClass);
        var directory = rulesetDirectory ?? DefaultRulesetDirectory;
        if (!Directory.Exists(directory))
        {
            return new CardRulesResult(null, $"Rules not evaluated: there is no rulesets folder at {directory}, so there are no rules to compare with.");
        }

        using var store = RulesetStore.Open(directory);
        if (store.Find(assetClass) is not { } ruleset)
        {
            return new CardRulesResult(null,
                $"Rules not evaluated: no valid ruleset for asset class '{assetClass}' in {directory}; on the gateway this class has no rules fallback either (an unloaded model means Healthy with confidence 0).");
        }

        var name = $"{ruleset.Name}@{ruleset.Version}";
        var inputFacts = ruleset.Facts.Where(f => !f.IsDerived).Select(f => f.Name).ToList();
        var states = new HealthState?[rows.Count];
        var missing = new SortedSet<string>(StringComparer.Ordinal);
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < rows.Count; i++)
        {
            var decision = ruleset.Evaluate(new RulesInput { AssetId = "card-row-" + i.ToString(CultureInfo.InvariantCulture), AssetClass = assetClass, Facts = rows[i] }, now);
            if (decision.MissingFacts.Count > 0)
            {
                missing.UnionWith(decision.MissingFacts);
                continue;
            }

            states[i] = decision.HealthState;
        }

        if (rows.Count == 0 || states.All(s => s is null))
        {
            return new CardRulesResult(null, string.Create(CultureInfo.InvariantCulture,
                $"Rules could not be evaluated on any of the {rows.Count} rows: ruleset {name} reads {string.Join(", ", inputFacts)}, and the rows lack {(missing.Count == 0 ? "them" : string.Join(", ", missing))}. The rules run on the gateway over its live feature windows; give the rows those columns to compare here."));
        }

        var evaluation = judge(name, states) with { MissingFacts = [.. missing] };
        var note = evaluation.RowsNotEvaluated == 0 ? null : string.Create(CultureInfo.InvariantCulture,
            $"Rules could not be evaluated on {evaluation.RowsNotEvaluated} of {rows.Count} rows: missing facts {string.Join(", ", missing)}. Both sides' figures here are on the other {evaluation.Rows} rows.");
        return new CardRulesResult(evaluation, note);
    }

    /// <summary>Counts [TP, FP, FN, TN].</summary>
    private static void Count(int[] counts, bool flagged, bool truth) =>
        counts[(flagged, truth) switch { (true, true) => 0, (true, false) => 1, (false, true) => 2, _ => 3 }]++;

    private static ConfusionCounts Counts(int[] counts) => ConfusionCounts.Of(counts[0], counts[1], counts[2], counts[3]);
}
