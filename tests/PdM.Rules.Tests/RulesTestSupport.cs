using System.Globalization;
using System.Text;
using PdM.Rules;
using PdM.Testing;

namespace PdM.Rules.Tests;

internal static class Shipped
{
    public static readonly DateTimeOffset Now = new(2026, 11, 25, 2, 0, 0, TimeSpan.Zero);

    /// <summary>The rulesets copied to the output folder by the library's build (what a gateway ships).</summary>
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "rulesets");

    private static readonly Lazy<RulesetStore> LazyStore = new(() => RulesetStore.Open(Directory));

    public static RulesetStore Store => LazyStore.Value;

    public static RulesEvaluator Evaluator { get; } = new(Store, new RulesTelemetry(), new ManualTimeProvider(Now, realTimers: true));

    public static RulesDecision Evaluate(string assetClass, params (string Name, double Value)[] facts)
    {
        var dictionary = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, value) in facts)
        {
            dictionary[name] = value;
        }

        return Evaluator.Evaluate(new RulesInput { AssetId = "asset-1", AssetClass = assetClass, Facts = dictionary });
    }
}

/// <summary>A throw-away rulesets folder; rulesets are written from a small template.</summary>
internal sealed class TempRulesetFolder : IDisposable
{
    public TempRulesetFolder()
    {
        Root = Path.Combine(Path.GetTempPath(), "pdm-rules-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string assetClass, string name, string version) =>
        Path.Combine(Root, assetClass, $"{name}@{version}.json");

    public string Write(string assetClass, string name, string version, string content)
    {
        var path = PathOf(assetClass, name, version);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        // Write to a side file and move it in, as a deployment would, so the watcher never sees half a file.
        var temporary = Path.Combine(Root, $".{Guid.NewGuid():N}.tmp");
        // Encoding.UTF8 writes a BOM, as Windows editors do: every test also proves a BOM is accepted.
        File.WriteAllText(temporary, content, Encoding.UTF8);
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    public string WriteThreshold(string assetClass, string name, string version, double limit, string? expression = null) =>
        Write(assetClass, name, version, Template.Threshold(name, version, assetClass, limit, expression));

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A watcher may still hold the folder for a moment; a leftover temp folder is harmless.
        }
    }
}

internal static class Template
{
    /// <summary>One fact (<c>temperature_c</c>), one rule "<c>temperature_c &gt;= limit</c>" unless an expression is given.</summary>
    public static string Threshold(string name, string version, string assetClass, double limit, string? expression = null, string rules = "", string properties = "") =>
        $$"""
        // test ruleset
        {
          "name": "{{name}}",
          "version": "{{version}}",
          "assetClass": "{{assetClass}}",
          "healthyConfidence": 0.8,
          "facts": [ { "name": "temperature_c", "unit": "°C" }, { "name": "pressure_bar", "unit": "bar" } ],
          "workflow": {
            "WorkflowName": "{{name}}",
            "Rules": [
              {
                "RuleName": "too-hot",
                "Expression": "{{expression ?? "temperature_c >= " + limit.ToString(CultureInfo.InvariantCulture)}}",
                "Properties": {
                  "failureMode": "OHE", "severity": "Degraded", "healthState": "Alert", "confidence": 0.7,
                  "evidence": [ { "signal": "temperature_c", "limit": {{limit.ToString(CultureInfo.InvariantCulture)}} } ]{{properties}}
                }
              }{{rules}}
            ]
          }
        }
        """;
}
