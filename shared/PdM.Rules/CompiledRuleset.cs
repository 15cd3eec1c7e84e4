using PdM.Contracts.Decisions;
using RulesEngine.Models;

namespace PdM.Rules;

/// <summary>
/// A validated ruleset with its RulesEngine workflow compiled once at load; evaluation only executes the compiled
/// delegates. Immutable, so a reload swaps whole rulesets and an evaluation in flight finishes on the one it began with.
/// </summary>
public sealed class CompiledRuleset
{
    private readonly global::RulesEngine.RulesEngine _engine;
    private readonly string _workflowName;
    private readonly int _inputFactCount;
    private readonly Func<object[], double>[] _derived;
    private readonly int[][] _derivedReferences;
    private readonly int[][] _ruleReferences;
    private readonly int[][] _ruleEvidenceFacts;
    private readonly Dictionary<string, int> _ruleIndex;

    internal CompiledRuleset(
        RulesetHeader header,
        IReadOnlyList<FactDefinition> facts,
        IReadOnlyList<RuleDefinition> rules,
        global::RulesEngine.RulesEngine engine,
        string workflowName,
        Func<object[], double>[] derived,
        int[][] derivedReferences,
        int[][] ruleReferences)
    {
        Name = header.Name;
        Version = header.Version;
        ParsedVersion = header.ParsedVersion;
        AssetClass = header.AssetClass;
        FilePath = header.FilePath;
        ContentSha256 = header.ContentSha256;
        Description = header.Description;
        Sources = header.Sources;
        HealthyConfidence = header.HealthyConfidence;
        Facts = facts;
        Rules = rules;
        _engine = engine;
        _workflowName = workflowName;
        _inputFactCount = facts.Count - derived.Length;
        _derived = derived;
        _derivedReferences = derivedReferences;
        _ruleReferences = ruleReferences;

        var factIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < facts.Count; i++)
        {
            factIndex[facts[i].Name] = i;
        }

        _ruleIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        _ruleEvidenceFacts = new int[rules.Count][];
        for (var r = 0; r < rules.Count; r++)
        {
            _ruleIndex[rules[r].Name] = r;
            var evidence = rules[r].Evidence;
            _ruleEvidenceFacts[r] = new int[evidence.Count];
            for (var e = 0; e < evidence.Count; e++)
            {
                _ruleEvidenceFacts[r][e] = factIndex[evidence[e].Signal];
            }
        }
    }

    public string Name { get; }

    /// <summary>major.minor.patch as written in the file.</summary>
    public string Version { get; }

    public Version ParsedVersion { get; }

    public string AssetClass { get; }

    public string FilePath { get; }

    /// <summary>SHA-256 of the file's bytes, lower-case hex: a reload recompiles only files whose bytes changed.</summary>
    public string ContentSha256 { get; }

    public string? Description { get; }

    public IReadOnlyList<string> Sources { get; }

    public double HealthyConfidence { get; }

    /// <summary>Input facts first, then derived facts in declaration order.</summary>
    public IReadOnlyList<FactDefinition> Facts { get; }

    /// <summary>Enabled rules in file order (the tie-breaker when two firings rank equal).</summary>
    public IReadOnlyList<RuleDefinition> Rules { get; }

    public override string ToString() => $"{AssetClass}/{Name}@{Version}";

    /// <summary>Evaluates every rule against <paramref name="input"/>. Never throws for bad facts: they count as missing.</summary>
    public RulesDecision Evaluate(RulesInput input, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(input);
        var factCount = Facts.Count;
        var values = new double[factCount];
        var present = new bool[factCount];
        var boxed = new object[factCount];
        List<string>? missing = null;
        List<string>? notes = null;

        for (var i = 0; i < _inputFactCount; i++)
        {
            var name = Facts[i].Name;
            if (input.Facts.TryGetValue(name, out var value) && double.IsFinite(value))
            {
                values[i] = value;
                present[i] = true;
            }
            else
            {
                values[i] = double.NaN;
                (missing ??= []).Add(name);
            }

            boxed[i] = values[i];
        }

        // Derived delegates take every fact (input and derived) so one boxed array serves them all; a derived fact
        // only reads earlier ones (checked at load), so the NaN placeholders of later ones are never read.
        for (var i = _inputFactCount; i < factCount; i++)
        {
            boxed[i] = double.NaN;
        }

        for (var d = 0; d < _derived.Length; d++)
        {
            var index = _inputFactCount + d;
            var value = double.NaN;
            if (AllPresent(present, _derivedReferences[d]))
            {
                try
                {
                    value = _derived[d](boxed);
                }
                catch (ArithmeticException ex)
                {
                    (notes ??= []).Add($"derived fact '{Facts[index].Name}' failed: {ex.Message}");
                }
            }

            present[index] = double.IsFinite(value);
            values[index] = present[index] ? value : double.NaN;
            boxed[index] = values[index];
        }

        var parameters = new RuleParameter[factCount];
        for (var i = 0; i < factCount; i++)
        {
            parameters[i] = new RuleParameter(Facts[i].Name, boxed[i]);
        }

        var pending = _engine.ExecuteAllRulesAsync(_workflowName, parameters);

        // Actions are rejected at load, so RulesEngine has nothing to await and the ValueTask is already complete.
        var results = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

        var evaluable = 0;
        for (var r = 0; r < Rules.Count; r++)
        {
            if (AllPresent(present, _ruleReferences[r]))
            {
                evaluable++;
            }
        }

        List<int>? fired = null;
        foreach (var result in results)
        {
            if (result.Rule?.RuleName is not { } ruleName || !_ruleIndex.TryGetValue(ruleName, out var r))
            {
                continue;
            }

            if (!string.IsNullOrEmpty(result.ExceptionMessage))
            {
                (notes ??= []).Add($"rule '{ruleName}' failed: {result.ExceptionMessage}");
                continue;
            }

            // A rule with a missing fact saw NaN, which makes every comparison false; checking presence as well keeps
            // a negated comparison from firing on a fact nobody sent.
            if (result.IsSuccess && AllPresent(present, _ruleReferences[r]))
            {
                (fired ??= []).Add(r);
            }
        }

        var windowStart = input.WindowStart ?? input.WindowEnd ?? now;
        var windowEnd = input.WindowEnd ?? input.WindowStart ?? now;
        var source = input.Source ?? "rules-input";
        IReadOnlyList<string> missingFacts = missing is null ? [] : missing;
        IReadOnlyList<string> decisionNotes = notes is null ? [] : notes;

        if (fired is null)
        {
            return new RulesDecision
            {
                AssetId = input.AssetId,
                AssetClass = input.AssetClass,
                HealthState = HealthState.Healthy,
                Confidence = HealthyConfidence * evaluable / Rules.Count,
                Evidence = [],
                Firings = [],
                RulesetName = Name,
                RulesetVersion = Version,
                MissingFacts = missingFacts,
                RulesEvaluated = evaluable,
                RulesTotal = Rules.Count,
                Notes = decisionNotes,
            };
        }

        fired.Sort(CompareWorstFirst);
        var firings = new RuleFiring[fired.Count];
        var allEvidence = new List<Evidence>();
        for (var f = 0; f < fired.Count; f++)
        {
            var r = fired[f];
            var rule = Rules[r];
            var evidence = new List<Evidence>(rule.Evidence.Count);
            for (var e = 0; e < rule.Evidence.Count; e++)
            {
                // Evidence may quote a fact the rule does not test; when that one is missing there is nothing to quote
                // (and NaN would not even serialize).
                var factIndex = _ruleEvidenceFacts[r][e];
                if (!present[factIndex])
                {
                    continue;
                }

                evidence.Add(new Evidence
                {
                    Signal = rule.Evidence[e].Signal,
                    Value = values[factIndex],
                    Unit = Facts[factIndex].Unit,
                    Limit = rule.Evidence[e].Limit,
                    WindowStart = windowStart,
                    WindowEnd = windowEnd,
                    Source = source,
                });
            }

            allEvidence.AddRange(evidence);
            firings[f] = new RuleFiring(rule.Name, rule.FailureMode, rule.Severity, rule.HealthState, rule.Confidence, rule.Description, evidence);
        }

        var worst = firings[0];
        return new RulesDecision
        {
            AssetId = input.AssetId,
            AssetClass = input.AssetClass,
            HealthState = worst.HealthState,
            FailureMode = worst.FailureMode,
            Severity = worst.Severity,
            Confidence = worst.Confidence,
            Evidence = allEvidence,
            Firings = firings,
            RulesetName = Name,
            RulesetVersion = Version,
            RuleName = worst.RuleName,
            MissingFacts = missingFacts,
            RulesEvaluated = evaluable,
            RulesTotal = Rules.Count,
            Notes = decisionNotes,
        };
    }

    /// <summary>Worst first: severity, then health state, then confidence; file order breaks ties.</summary>
    private int CompareWorstFirst(int left, int right)
    {
        var a = Rules[left];
        var b = Rules[right];
        var bySeverity = b.Severity.CompareTo(a.Severity);
        if (bySeverity != 0)
        {
            return bySeverity;
        }

        var byHealth = b.HealthState.CompareTo(a.HealthState);
        if (byHealth != 0)
        {
            return byHealth;
        }

        var byConfidence = b.Confidence.CompareTo(a.Confidence);
        return byConfidence != 0 ? byConfidence : left.CompareTo(right);
    }

    private static bool AllPresent(bool[] present, int[] references)
    {
        foreach (var index in references)
        {
            if (!present[index])
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The manifest part of a ruleset, validated.</summary>
internal sealed record RulesetHeader(
    string Name,
    string Version,
    Version ParsedVersion,
    string AssetClass,
    string FilePath,
    string ContentSha256,
    string? Description,
    IReadOnlyList<string> Sources,
    double HealthyConfidence);
