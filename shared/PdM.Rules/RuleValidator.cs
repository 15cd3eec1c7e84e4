using System.Linq.Expressions;
using System.Text.Json;
using System.Text.RegularExpressions;
using PdM.Contracts.Decisions;
using RulesEngine.ExpressionBuilders;
using RulesEngine.Models;

namespace PdM.Rules;

/// <summary>
/// Checks and compiles what a ruleset computes: derived facts and rule expressions (parsed against the declared facts,
/// which must not be shadowed by the expression language), the workflow's rules and their properties (failure mode,
/// severity, health state, confidence, evidence). Every problem is added to the list, naming the rule to blame.
/// </summary>
internal static partial class RuleValidator
{
    private static readonly string[] PropertyKeys = ["failureMode", "severity", "healthState", "confidence", "evidence", "source"];

    /// <summary>
    /// Expressions are parsed case-insensitively, so a fact named like a keyword or a type (<c>it</c>, <c>math</c>)
    /// would silently mean something else. Parsing the bare name must give back the fact itself.
    /// </summary>
    public static void CheckNamesAreNotShadowed(
        string path, List<FactDefinition> facts, RuleExpressionParser parser, ParameterExpression[] parameters, List<RulesetProblem> problems)
    {
        for (var i = 0; i < facts.Count; i++)
        {
            Expression? parsed;
            try
            {
                parsed = parser.Parse(facts[i].Name, parameters, typeof(double));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                parsed = null;
            }

            var body = parsed is LambdaExpression lambda ? lambda.Body : parsed;
            while (body is UnaryExpression { NodeType: ExpressionType.Convert } convert)
            {
                body = convert.Operand;
            }

            if (body is not ParameterExpression parameter || !string.Equals(parameter.Name, facts[i].Name, StringComparison.Ordinal))
            {
                problems.Add(new(path, null, $"fact name '{facts[i].Name}' is reserved by the expression language; choose another"));
            }
        }
    }

    public static (Func<object[], double>[] Delegates, int[][] References) CompileDerivedFacts(
        string path,
        List<FactDefinition> facts,
        int inputCount,
        Dictionary<string, int> factIndex,
        RuleExpressionParser parser,
        ParameterExpression[] parameters,
        RuleParameter[] ruleParameters,
        List<RulesetProblem> problems)
    {
        var count = facts.Count - inputCount;
        var delegates = new Func<object[], double>[count];
        var references = new int[count][];
        for (var d = 0; d < count; d++)
        {
            var fact = facts[inputCount + d];
            references[d] = [];
            var referenced = Parse(parser, fact.Expression!, parameters, typeof(double), out var error);
            if (referenced is null)
            {
                problems.Add(new(path, null, $"derived fact '{fact.Name}': expression '{fact.Expression}' does not compile: {error}. {Declared(facts)}"));
                continue;
            }

            var indices = ToIndices(referenced, factIndex);
            foreach (var index in indices)
            {
                if (index >= inputCount + d)
                {
                    problems.Add(new(path, null, $"derived fact '{fact.Name}' uses '{facts[index].Name}', which is not declared before it"));
                }
            }

            if (indices.Length == 0)
            {
                problems.Add(new(path, null, $"derived fact '{fact.Name}' uses no fact; write the constant into the rules instead"));
            }

            references[d] = indices;
            delegates[d] = parser.Compile<double>(fact.Expression!, ruleParameters);
        }

        return (delegates, references);
    }

    public static (Workflow? Workflow, List<RuleDefinition> Rules, int[][] References) ValidateWorkflow(
        string path,
        RulesetDocument document,
        List<FactDefinition> facts,
        Dictionary<string, int> factIndex,
        RuleExpressionParser parser,
        ParameterExpression[] parameters,
        List<RulesetProblem> problems)
    {
        var rules = new List<RuleDefinition>();
        var references = new List<int[]>();
        var workflow = document.Workflow;
        if (workflow is null)
        {
            problems.Add(new(path, null, "'workflow' (a RulesEngine workflow) is missing"));
            return (null, rules, []);
        }

        if (string.IsNullOrWhiteSpace(workflow.WorkflowName))
        {
            problems.Add(new(path, null, "'workflow.WorkflowName' is missing"));
        }

        if (workflow.GlobalParams?.Any() == true || workflow.WorkflowsToInject?.Any() == true)
        {
            problems.Add(new(path, null, "GlobalParams and WorkflowsToInject are not supported: declare 'derivedFacts' so that evidence can quote their values"));
        }

        var ruleList = workflow.Rules?.ToList() ?? [];
        if (ruleList.Count == 0)
        {
            problems.Add(new(path, null, "'workflow.Rules' is empty: a ruleset that cannot fire answers Healthy for everything"));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in ruleList)
        {
            var name = rule.RuleName;
            if (string.IsNullOrWhiteSpace(name))
            {
                problems.Add(new(path, null, "a rule has no 'RuleName'"));
                continue;
            }

            if (!names.Add(name))
            {
                problems.Add(new(path, name, "the rule name is used twice"));
                continue;
            }

            if (!rule.Enabled)
            {
                continue;
            }

            var definition = ValidateRule(path, rule, facts, factIndex, parser, parameters, problems, out var ruleReferences);
            if (definition is not null)
            {
                rules.Add(definition);
                references.Add(ruleReferences);
            }
        }

        if (ruleList.Count > 0 && rules.Count == 0 && problems.Count == 0)
        {
            problems.Add(new(path, null, "every rule is disabled"));
        }

        return (workflow, rules, [.. references]);
    }

    private static RuleDefinition? ValidateRule(
        string path,
        Rule rule,
        List<FactDefinition> facts,
        Dictionary<string, int> factIndex,
        RuleExpressionParser parser,
        ParameterExpression[] parameters,
        List<RulesetProblem> problems,
        out int[] references)
    {
        var name = rule.RuleName;
        var before = problems.Count;
        references = [];
        if (rule.Actions is not null)
        {
            problems.Add(new(path, name, "Actions are not supported: the fallback decides, it does not act"));
        }

        if (rule.Rules?.Any() == true || rule.Operator is not null || rule.WorkflowsToInject?.Any() == true)
        {
            problems.Add(new(path, name, "nested rules are not supported: combine conditions with AND/OR in one Expression"));
        }

        if (rule.LocalParams?.Any() == true)
        {
            problems.Add(new(path, name, "LocalParams are not supported: declare 'derivedFacts' so that evidence can quote their values"));
        }

        if (rule.RuleExpressionType != RuleExpressionType.LambdaExpression)
        {
            problems.Add(new(path, name, $"RuleExpressionType must be LambdaExpression (got {rule.RuleExpressionType})"));
        }

        if (string.IsNullOrWhiteSpace(rule.Expression))
        {
            problems.Add(new(path, name, "has no 'Expression'"));
        }
        else
        {
            var referenced = Parse(parser, rule.Expression, parameters, typeof(bool), out var error);
            if (referenced is null)
            {
                problems.Add(new(path, name, $"expression '{rule.Expression}' does not compile: {error}. {Declared(facts)}"));
            }
            else if (referenced.Count == 0)
            {
                problems.Add(new(path, name, $"expression '{rule.Expression}' uses no fact, so it would always or never fire"));
            }
            else
            {
                references = ToIndices(referenced, factIndex);
            }
        }

        var metadata = ReadMetadata(path, rule, factIndex, problems);
        if (problems.Count > before || metadata is null)
        {
            return null;
        }

        return metadata with { Expression = rule.Expression! };
    }

    private static RuleDefinition? ReadMetadata(string path, Rule rule, Dictionary<string, int> factIndex, List<RulesetProblem> problems)
    {
        var name = rule.RuleName;
        var properties = rule.Properties;
        if (properties is null)
        {
            problems.Add(new(path, name, "has no 'Properties' (failureMode, severity, healthState, confidence, evidence)"));
            return null;
        }

        var before = problems.Count;
        foreach (var key in properties.Keys)
        {
            if (Array.IndexOf(PropertyKeys, key) < 0)
            {
                problems.Add(new(path, name, $"unknown property '{key}' (known: {string.Join(", ", PropertyKeys)})"));
            }
        }

        var failureMode = GetString(properties, "failureMode");
        if (failureMode is null || !FailureModePattern().IsMatch(failureMode))
        {
            problems.Add(new(path, name, $"'failureMode' must be a three-letter ISO 14224 code such as VIB or OHE (got '{failureMode}')"));
        }

        var severityText = GetString(properties, "severity");
        if (!Enum.TryParse<FailureSeverity>(severityText, ignoreCase: false, out var severity) || !Enum.IsDefined(severity) || int.TryParse(severityText, out _))
        {
            problems.Add(new(path, name, $"'severity' must be one of {string.Join(", ", Enum.GetNames<FailureSeverity>())} (got '{severityText}')"));
        }

        var healthText = GetString(properties, "healthState");
        if (!Enum.TryParse<HealthState>(healthText, ignoreCase: false, out var health) || health == HealthState.Healthy
            || !Enum.IsDefined(health) || int.TryParse(healthText, out _))
        {
            problems.Add(new(path, name, $"'healthState' must be Watch, Alert or Danger (got '{healthText}')"));
        }

        var confidence = GetNumber(properties, "confidence");
        if (confidence is not { } c || !(c > 0 && c <= 1))
        {
            problems.Add(new(path, name, $"'confidence' must be a number in (0, 1] (got {RulesetDeclarationValidator.Format(confidence)})"));
        }

        var evidence = new List<EvidenceDefinition>();
        if (!properties.TryGetValue("evidence", out var evidenceValue) || evidenceValue is not JsonElement { ValueKind: JsonValueKind.Array } array
            || array.GetArrayLength() == 0)
        {
            problems.Add(new(path, name, "'evidence' must list at least one { \"signal\": fact, \"limit\": number }"));
        }
        else
        {
            foreach (var item in array.EnumerateArray())
            {
                var signal = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("signal", out var s) && s.ValueKind == JsonValueKind.String
                    ? s.GetString()
                    : null;
                if (signal is null || !factIndex.ContainsKey(signal))
                {
                    problems.Add(new(path, name, $"evidence signal '{signal}' is not a declared fact"));
                    continue;
                }

                double? limit = null;
                if (item.TryGetProperty("limit", out var l))
                {
                    if (l.ValueKind != JsonValueKind.Number)
                    {
                        problems.Add(new(path, name, $"evidence '{signal}': 'limit' must be a number"));
                        continue;
                    }

                    limit = l.GetDouble();
                }

                evidence.Add(new EvidenceDefinition(signal, limit));
            }
        }

        if (problems.Count > before)
        {
            return null;
        }

        return new RuleDefinition(
            name, string.Empty, failureMode!, severity, health, confidence!.Value, rule.SuccessEvent, GetString(properties, "source"), evidence);
    }

    private static HashSet<string>? Parse(RuleExpressionParser parser, string expression, ParameterExpression[] parameters, Type resultType, out string? error)
    {
        try
        {
            var parsed = parser.Parse(expression, parameters, resultType);
            var collector = new ParameterCollector();
            collector.Visit(parsed is LambdaExpression lambda ? lambda.Body : parsed);
            error = null;
            return collector.Names;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // System.Linq.Dynamic.Core throws its ParseException and, for some type errors, InvalidOperationException
            // or ArgumentException; all of them mean the same to an author: this expression does not compile.
            error = ex.Message;
            return null;
        }
    }

    private static int[] ToIndices(HashSet<string> names, Dictionary<string, int> factIndex)
    {
        var indices = new List<int>(names.Count);
        foreach (var name in names)
        {
            if (factIndex.TryGetValue(name, out var index))
            {
                indices.Add(index);
            }
        }

        indices.Sort();
        return [.. indices];
    }

    private static string Declared(List<FactDefinition> facts) =>
        "Declared facts: " + string.Join(", ", facts.Select(f => f.Name));

    private static string? GetString(Dictionary<string, object> properties, string key) =>
        properties.TryGetValue(key, out var value) && value is JsonElement { ValueKind: JsonValueKind.String } element ? element.GetString() : null;

    private static double? GetNumber(Dictionary<string, object> properties, string key) =>
        properties.TryGetValue(key, out var value) && value is JsonElement { ValueKind: JsonValueKind.Number } element ? element.GetDouble() : null;

    [GeneratedRegex("^[A-Z]{3}$", RegexOptions.CultureInvariant)]
    private static partial Regex FailureModePattern();

    /// <summary>Collects the facts an expression reads, so that a rule with a missing fact is known not to have been checked.</summary>
    private sealed class ParameterCollector : ExpressionVisitor
    {
        public HashSet<string> Names { get; } = new(StringComparer.Ordinal);

        protected override Expression VisitParameter(ParameterExpression node)
        {
            if (node.Name is not null)
            {
                Names.Add(node.Name);
            }

            return node;
        }
    }
}
