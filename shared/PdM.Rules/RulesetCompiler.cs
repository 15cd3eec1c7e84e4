using System.Linq.Expressions;
using System.Security.Cryptography;
using System.Text.Json;
using RulesEngine.ExpressionBuilders;
using RulesEngine.Models;

namespace PdM.Rules;

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
public static class RulesetCompiler
{
    public const string FileExtension = ".json";

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

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
        var header = RulesetDeclarationValidator.ValidateHeader(path, sha, document, problems);
        var facts = RulesetDeclarationValidator.ValidateFacts(path, document, problems);
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

        RuleValidator.CheckNamesAreNotShadowed(path, facts, parser, parameters, problems);
        var inputCount = facts.Count - (document.DerivedFacts?.Count ?? 0);
        var (derived, derivedReferences) = RuleValidator.CompileDerivedFacts(path, facts, inputCount, factIndex, parser, parameters, ruleParameters, problems);
        var (workflow, rules, ruleReferences) = RuleValidator.ValidateWorkflow(path, document, facts, factIndex, parser, parameters, problems);
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
}
