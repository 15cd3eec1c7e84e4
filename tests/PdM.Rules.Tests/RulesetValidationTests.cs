using PdM.Contracts.Decisions;
using PdM.Testing;

namespace PdM.Rules.Tests;

public sealed class RulesetValidationTests : IDisposable
{
    private readonly TempRulesetFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private RulesetProblem SingleProblem(string path)
    {
        using var store = RulesetStore.Open(_folder.Root);
        Assert.Empty(store.Active);
        var problem = Assert.Single(store.Problems);
        Assert.Equal(path, problem.FilePath);
        return problem;
    }

    [Fact]
    public void A_rule_using_an_undeclared_fact_is_rejected_naming_the_file_the_rule_and_the_fact()
    {
        var path = _folder.WriteThreshold("kiln", "kiln", "1.0.0", 80, expression: "temperature_c >= 80 AND humidity_pct > 90");

        var problem = SingleProblem(path);

        Assert.Equal("too-hot", problem.RuleName);
        Assert.Contains("humidity_pct", problem.Message, StringComparison.Ordinal);
        Assert.Contains(path, problem.ToString(), StringComparison.Ordinal);
        Assert.Contains("rule 'too-hot'", problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_expression_that_does_not_parse_is_rejected_with_its_rule()
    {
        var path = _folder.WriteThreshold("kiln", "kiln", "1.0.0", 80, expression: "temperature_c >=");

        Assert.Equal("too-hot", SingleProblem(path).RuleName);
    }

    [Fact]
    public void An_expression_that_is_not_a_condition_is_rejected()
    {
        var path = _folder.WriteThreshold("kiln", "kiln", "1.0.0", 80, expression: "temperature_c * 2");

        Assert.Equal("too-hot", SingleProblem(path).RuleName);
    }

    [Theory]
    [InlineData("\"severity\": \"Degraded\"", "\"severity\": \"Bad\"", "severity")]
    [InlineData("\"healthState\": \"Alert\"", "\"healthState\": \"Healthy\"", "healthState")]
    [InlineData("\"failureMode\": \"OHE\"", "\"failureMode\": \"overheating\"", "failureMode")]
    [InlineData("\"confidence\": 0.7", "\"confidence\": 1.5", "confidence")]
    [InlineData("{ \"signal\": \"temperature_c\"", "{ \"signal\": \"temp\"", "temp")]
    [InlineData("\"confidence\": 0.7", "\"confidence\": 0.7, \"severty\": \"Critical\"", "severty")]
    public void Bad_rule_metadata_is_rejected_with_its_rule(string good, string bad, string mentioned)
    {
        var content = Template.Threshold("kiln", "1.0.0", "kiln", 80).Replace(good, bad, StringComparison.Ordinal);
        var path = _folder.Write("kiln", "kiln", "1.0.0", content);

        var problem = SingleProblem(path);

        Assert.Equal("too-hot", problem.RuleName);
        Assert.Contains(mentioned, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_json_is_rejected_naming_the_file()
    {
        var path = _folder.Write("kiln", "kiln", "1.0.0", "{ \"name\": \"kiln\", ");

        var problem = SingleProblem(path);

        Assert.Null(problem.RuleName);
        Assert.Contains("not a valid ruleset document", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelt_manifest_key_is_rejected_rather_than_ignored()
    {
        var content = Template.Threshold("kiln", "1.0.0", "kiln", 80).Replace("\"healthyConfidence\"", "\"healthyConfidense\"", StringComparison.Ordinal);
        var path = _folder.Write("kiln", "kiln", "1.0.0", content);

        Assert.Contains("healthyConfidense", SingleProblem(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_whose_name_or_folder_disagrees_with_its_manifest_is_rejected()
    {
        var misnamed = _folder.Write("kiln", "kiln", "1.0.1", Template.Threshold("kiln", "1.0.0", "kiln", 80));
        var misplaced = _folder.Write("oven", "kiln", "1.0.0", Template.Threshold("kiln", "1.0.0", "kiln", 80));

        using var store = RulesetStore.Open(_folder.Root);

        Assert.Empty(store.Active);
        Assert.Contains(store.Problems, p => p.FilePath == misnamed && p.Message.Contains("kiln@1.0.0.json", StringComparison.Ordinal));
        Assert.Contains(store.Problems, p => p.FilePath == misplaced && p.Message.Contains("folder", StringComparison.Ordinal));
    }

    [Fact]
    public void Two_files_with_the_same_version_of_an_asset_class_are_both_rejected_and_the_lower_version_answers()
    {
        _folder.WriteThreshold("kiln", "kiln", "1.0.0", 80);
        var first = _folder.WriteThreshold("kiln", "kiln", "1.1.0", 90);
        var second = _folder.WriteThreshold("kiln", "kiln-alt", "1.1.0", 70);

        using var store = RulesetStore.Open(_folder.Root);

        Assert.Equal("1.0.0", store.Find("kiln")!.Version);
        Assert.Equal(2, store.Problems.Count);
        Assert.Contains(store.Problems, p => p.FilePath == first && p.Message.Contains(second, StringComparison.Ordinal));
        Assert.Contains(store.Problems, p => p.FilePath == second && p.Message.Contains("duplicate version 1.1.0", StringComparison.Ordinal));
    }

    [Fact]
    public void The_highest_valid_version_answers_and_versions_compare_numerically()
    {
        _folder.WriteThreshold("kiln", "kiln", "1.9.0", 80);
        _folder.WriteThreshold("kiln", "kiln", "1.10.0", 95);

        using var store = RulesetStore.Open(_folder.Root);

        Assert.Equal("1.10.0", store.Find("kiln")!.Version);
        Assert.Equal(2, store.Loaded.Count);
    }

    [Fact]
    public void Rule_actions_are_rejected_because_the_fallback_only_decides()
    {
        var content = Template.Threshold("kiln", "1.0.0", "kiln", 80).Replace(
            "\"RuleName\": \"too-hot\",",
            "\"RuleName\": \"too-hot\", \"Actions\": { \"OnSuccess\": { \"Name\": \"OutputExpression\", \"Context\": { \"Expression\": \"temperature_c\" } } },",
            StringComparison.Ordinal);
        var path = _folder.Write("kiln", "kiln", "1.0.0", content);

        var problem = SingleProblem(path);

        Assert.Equal("too-hot", problem.RuleName);
        Assert.Contains("Actions", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fact_named_like_an_expression_keyword_is_rejected()
    {
        var content = Template.Threshold("kiln", "1.0.0", "kiln", 80).Replace("\"pressure_bar\"", "\"it\"", StringComparison.Ordinal);
        var path = _folder.Write("kiln", "kiln", "1.0.0", content);

        Assert.Contains("'it' is reserved", SingleProblem(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rule_whose_fact_is_missing_does_not_fire_even_when_written_as_a_negation()
    {
        _folder.WriteThreshold("kiln", "kiln", "1.0.0", 80, expression: "NOT (pressure_bar < 2)");
        using var store = RulesetStore.Open(_folder.Root);
        var evaluator = new RulesEvaluator(store, new RulesTelemetry(), new ManualTimeProvider(Shipped.Now, realTimers: true));

        var missing = evaluator.Evaluate(new RulesInput { AssetId = "k1", AssetClass = "kiln", Facts = new Dictionary<string, double>() });
        var present = evaluator.Evaluate(new RulesInput { AssetId = "k1", AssetClass = "kiln", Facts = new Dictionary<string, double> { ["pressure_bar"] = 3 } });

        Assert.Equal(HealthState.Healthy, missing.HealthState);
        Assert.Equal(0, missing.Confidence);
        Assert.Equal(HealthState.Alert, present.HealthState);
    }

    [Fact]
    public void A_valid_file_next_to_an_invalid_one_still_answers()
    {
        _folder.WriteThreshold("kiln", "kiln", "1.0.0", 80);
        _folder.WriteThreshold("oven", "oven", "1.0.0", 80, expression: "nonsense >= 1");

        using var store = RulesetStore.Open(_folder.Root);

        Assert.Equal(["kiln"], store.Active.Keys);
        Assert.Equal("oven", Path.GetFileName(Path.GetDirectoryName(Assert.Single(store.Problems).FilePath)));
    }
}
