using System.Globalization;
using System.Linq.Expressions;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using PdM.Contracts.Decisions;
using RulesEngine.ExpressionBuilders;
using RulesEngine.Models;

namespace PdM.Edge.Rules;

/// <summary>The outcome of loading one file: a compiled ruleset, or the problems that reject it (never both).</summary>
public sealed record RulesetCompilation(string FilePath, string? ContentSha256, CompiledRuleset? Ruleset, IReadOnlyList<RulesetProblem> Problems)
{
    public bool IsValid => Ruleset is not null;
}

/// <summary>
/// Reads, validates and compiles one ruleset file. Everything that can be wrong with a file is reported as a
/// <see cref="RulesetProblem"/> naming the file and, where one is to blame, the rule: a gateway must keep answering
/// with what it has, so a bad file is a value to report, not an exception.
/// </summary>
public static partial class RulesetCompiler
{
    public const string FileExtension = ".json";

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private static readonly string[] PropertyKeys = ["failureMode", "severity", "healthState", "confidence", "evidence", "source"];

    /// <summary>Loads <paramref name="path"/>, expected at <c>{root}/{assetClass}/{name}@{version}.json</c>.</summary>
    public static RulesetCompilation CompileFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Rejected(path, null, null, $"cannot be read: {ex.Message}");
        }

        return Compile(path, bytes);
    }

    /// <summary>Validates and compiles file content already read (the path still names the file in problems).</summary>
    public static RulesetCompilation Compile(string path, ReadOnlySpan<byte> content)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));

        // Editors on Windows save UTF-8 with a BOM; the JSON reader rejects it when reading bytes.
        var json = content.StartsWith(Utf8Bom) ? content[Utf8Bom.Length..] : content;
        RulesetDocument? document;
        try
        {
            document = JsonSerializer.Deserialize<RulesetDocument>(json, RulesetJson.Options);
        }
        catch (JsonException ex)
        {
            return Rejected(path, sha, null, $"is not a valid ruleset document: {ex.Message}");
        }

        if (document is null)
        {
            return Rejected(path, sha, null, "is empty (JSON null)");
        }

        var problems = new List<RulesetProblem>();
        var header = ValidateHeader(path, sha, document, problems);
        var facts = ValidateFacts(path, document, problems);
        if (header is null || facts is null)
        {
            return new RulesetCompilation(path, sha, null, problems);
        }

        var settings = new ReSettings
        {
            // A run-time failure becomes a failed rule with a message instead of an exception unwinding the caller.
            EnableExceptionAsErrorMessage = true,
            IgnoreException = false,
            // We use no ErrorMessage templates; formatting would cost a regex per non-firing rule.
            EnableFormattedErrorMessage = false,
            AutoExecuteActions = false,
        };
        var parser = new RuleExpressionParser(settings);
        var parameters = new ParameterExpression[facts.Count];
        var ruleParameters = new RuleParameter[facts.Count];
        for (var i = 0; i < facts.Count; i++)
        {
            ruleParameters[i] = RuleParameter.Create(facts[i].Name, typeof(double));
            parameters[i] = ruleParameters[i].ParameterExpression;
        }

        var factIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < facts.Count; i++)
        {
            factIndex[facts[i].Name] = i;
        }

        CheckNamesAreNotShadowed(path, facts, parser, parameters, problems);
        var inputCount = facts.Count - (document.DerivedFacts?.Count ?? 0);
        var (derived, derivedReferences) = CompileDerivedFacts(path, facts, inputCount, factIndex, parser, parameters, ruleParameters, problems);
        var (workflow, rules, ruleReferences) = ValidateWorkflow(path, document, facts, factIndex, parser, parameters, problems);
        if (problems.Count > 0 || workflow is null)
        {
            return new RulesetCompilation(path, sha, null, problems);
        }

        global::RulesEngine.RulesEngine engine;
        try
        {
            engine = new global::RulesEngine.RulesEngine([workflow], settings);
        }
        catch (global::RulesEngine.Exceptions.RuleValidationException ex)
        {
            return Rejected(path, sha, null, $"workflow '{workflow.WorkflowName}' is not valid for RulesEngine: {ex.Message}");
        }

        // Compile the workflow now (RulesEngine compiles on first execution) so that the first real evaluation is not
        // the one that pays for it, and so that anything RulesEngine itself rejects is reported at load.
        var warmUp = new RuleParameter[facts.Count];
        for (var i = 0; i < facts.Count; i++)
        {
            warmUp[i] = new RuleParameter(facts[i].Name, double.NaN);
        }

        var pending = engine.ExecuteAllRulesAsync(workflow.WorkflowName, warmUp);
        var results = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
        foreach (var result in results)
        {
            if (!string.IsNullOrEmpty(result.ExceptionMessage))
            {
                problems.Add(new RulesetProblem(path, result.Rule?.RuleName, $"does not compile in RulesEngine: {result.ExceptionMessage}"));
            }
        }

        if (problems.Count > 0)
        {
            return new RulesetCompilation(path, sha, null, problems);
        }

        var compiled = new CompiledRuleset(header, facts, rules, engine, workflow.WorkflowName, derived, derivedReferences, ruleReferences);
        return new RulesetCompilation(path, sha, compiled, []);
    }

    private static RulesetCompilation Rejected(string path, string? sha, string? rule, string message) =>
        new(path, sha, null, [new RulesetProblem(path, rule, message)]);

    private static RulesetHeader? ValidateHeader(string path, string sha, RulesetDocument document, List<RulesetProblem> problems)
    {
        var before = problems.Count;
        if (string.IsNullOrWhiteSpace(document.Name) || !NamePattern().IsMatch(document.Name))
        {
            problems.Add(new(path, null, $"'name' must match {NamePattern()} (got '{document.Name}')"));
        }

        if (string.IsNullOrWhiteSpace(document.AssetClass) || !NamePattern().IsMatch(document.AssetClass))
        {
            problems.Add(new(path, null, $"'assetClass' must match {NamePattern()} (got '{document.AssetClass}')"));
        }

        Version? version = null;
        if (document.Version is null || !VersionPattern().IsMatch(document.Version) || !System.Version.TryParse(document.Version, out version))
        {
            problems.Add(new(path, null, $"'version' must be major.minor.patch (got '{document.Version}')"));
        }

        if (document.HealthyConfidence is not { } healthy || !(healthy >= 0 && healthy <= 1))
        {
            problems.Add(new(path, null, $"'healthyConfidence' must be a number in [0, 1] (got {Format(document.HealthyConfidence)})"));
        }

        if (problems.Count > before)
        {
            return null;
        }

        // The file name and folder repeat the identity so that a directory listing tells what answers for whom.
        var expectedFile = $"{document.Name}@{document.Version}{FileExtension}";
        if (!string.Equals(Path.GetFileName(path), expectedFile, StringComparison.Ordinal))
        {
            problems.Add(new(path, null, $"file name must be '{expectedFile}' to match its name and version"));
        }

        var folder = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path)));
        if (!string.Equals(folder, document.AssetClass, StringComparison.Ordinal))
        {
            problems.Add(new(path, null, $"must sit in a folder named after its asset class '{document.AssetClass}' (found in '{folder}')"));
        }

        if (problems.Count > before)
        {
            return null;
        }

        return new RulesetHeader(
            document.Name!, document.Version!, version!, document.AssetClass!, path, sha, document.Description,
            document.Sources is null ? [] : [.. document.Sources], document.HealthyConfidence!.Value);
    }

    private static List<FactDefinition>? ValidateFacts(string path, RulesetDocument document, List<RulesetProblem> problems)
    {
        var before = problems.Count;
        var facts = new List<FactDefinition>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (document.Facts is not { Count: > 0 })
        {
            problems.Add(new(path, null, "'facts' must declare at least one input fact"));
            return null;
        }

        foreach (var fact in document.Facts)
        {
            if (CheckFactName(path, fact.Name, fact.Unit, seen, problems))
            {
                facts.Add(new FactDefinition(fact.Name!, fact.Unit!, fact.Description, null));
            }
        }

        foreach (var fact in document.DerivedFacts ?? [])
        {
            if (string.IsNullOrWhiteSpace(fact.Expression))
            {
                problems.Add(new(path, null, $"derived fact '{fact.Name}' has no 'expression'"));
                continue;
            }

            if (CheckFactName(path, fact.Name, fact.Unit, seen, problems))
            {
                facts.Add(new FactDefinition(fact.Name!, fact.Unit!, fact.Description, fact.Expression));
            }
        }

        return problems.Count > before ? null : facts;
    }

    private static bool CheckFactName(string path, string? name, string? unit, HashSet<string> seen, List<RulesetProblem> problems)
    {
        if (string.IsNullOrEmpty(name) || !FactPattern().IsMatch(name))
        {
            problems.Add(new(path, null, $"fact name '{name}' must match {FactPattern()} (it is an identifier in rule expressions)"));
            return false;
        }

        if (!seen.Add(name))
        {
            problems.Add(new(path, null, $"fact '{name}' is declared twice"));
            return false;
        }

        if (string.IsNullOrWhiteSpace(unit))
        {
            problems.Add(new(path, null, $"fact '{name}' has no 'unit' (evidence carries it)"));
            return false;
        }

        return true;
    }

    /// <summary>
    /// Expressions are parsed case-insensitively, so a fact named like a keyword or a type (<c>it</c>, <c>math</c>)
    /// would silently mean something else. Parsing the bare name must give back the fact itself.
    /// </summary>
    private static void CheckNamesAreNotShadowed(
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

    private static (Func<object[], double>[] Delegates, int[][] References) CompileDerivedFacts(
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

    private static (Workflow? Workflow, List<RuleDefinition> Rules, int[][] References) ValidateWorkflow(
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
            problems.Add(new(path, name, $"'confidence' must be a number in (0, 1] (got {Format(confidence)})"));
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

    private static string Format(double? value) =>
        value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "nothing";

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex FactPattern();

    [GeneratedRegex(@"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();

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
