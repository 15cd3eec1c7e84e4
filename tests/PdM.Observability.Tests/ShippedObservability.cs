using System.Text.Json;
using System.Text.RegularExpressions;
using PdM.Testing;
using YamlDotNet.RepresentationModel;

namespace PdM.Observability.Tests;

/// <summary>One PromQL expression of a shipped dashboard panel.</summary>
public sealed record PanelQuery(string Dashboard, string Panel, string Expression);

/// <summary>One shipped alert rule.</summary>
public sealed record AlertRule(string Name, string Expression, TimeSpan For, IReadOnlyDictionary<string, string> Annotations);

/// <summary>Reads what the repository ships: the Grafana dashboards' queries and the Prometheus alert rules.</summary>
public static partial class ShippedObservability
{
    public static string DashboardsFolder { get; } = Path.Combine(LocalDependencies.RepositoryRoot, "infra", "grafana", "dashboards");

    public static string AlertsFile { get; } = Path.Combine(LocalDependencies.RepositoryRoot, "infra", "prometheus", "alerts.yml");

    /// <summary>
    /// Every target expression of every panel. Grafana's interval variables become a fixed window long enough for a
    /// rate over the test's one-second scrapes.
    /// </summary>
    public static IReadOnlyList<PanelQuery> PanelQueries()
    {
        var queries = new List<PanelQuery>();
        foreach (var file in Directory.GetFiles(DashboardsFolder, "*.json").Order(StringComparer.Ordinal))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(file));
            var title = document.RootElement.GetProperty("title").GetString()!;
            foreach (var panel in document.RootElement.GetProperty("panels").EnumerateArray())
            {
                if (!panel.TryGetProperty("targets", out var targets))
                {
                    continue;
                }

                foreach (var target in targets.EnumerateArray())
                {
                    var expression = target.GetProperty("expr").GetString()!
                        .Replace("$__rate_interval", "1m", StringComparison.Ordinal)
                        .Replace("$__interval", "1m", StringComparison.Ordinal);
                    queries.Add(new PanelQuery(title, panel.GetProperty("title").GetString()!, expression));
                }
            }
        }

        return queries;
    }

    public static IReadOnlyList<AlertRule> AlertRules()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(AlertsFile))
        {
            yaml.Load(reader);
        }

        var rules = new List<AlertRule>();
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        foreach (var group in ((YamlSequenceNode)root["groups"]).Cast<YamlMappingNode>())
        {
            foreach (var rule in ((YamlSequenceNode)group["rules"]).Cast<YamlMappingNode>())
            {
                var annotations = ((YamlMappingNode)rule["annotations"]).Children
                    .ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value!, StringComparer.Ordinal);
                var duration = rule.Children.TryGetValue(new YamlScalarNode("for"), out var f) ? ParseDuration(((YamlScalarNode)f).Value!) : TimeSpan.Zero;
                rules.Add(new AlertRule(((YamlScalarNode)rule["alert"]).Value!, ((YamlScalarNode)rule["expr"]).Value!.Trim(), duration, annotations));
            }
        }

        return rules;
    }

    /// <summary>
    /// The instant-vector selectors of a PromQL expression (metric name plus its label matchers), so each can be asked
    /// on its own: an alert that is quiet returns nothing as a whole, but every metric it watches must exist. The
    /// method: drop range windows (<c>[5m]</c>) and label lists of <c>by</c>/<c>without</c>/<c>on</c>/<c>ignoring</c>/
    /// <c>group_left</c>/<c>group_right</c>, then every identifier that is not followed by <c>(</c> (a function or
    /// aggregation) and is not a keyword is a metric name, taken with the <c>{…}</c> that follows it.
    /// </summary>
    public static IReadOnlyList<string> Selectors(string expression)
    {
        var text = RangeWindow().Replace(expression, string.Empty);
        text = LabelList().Replace(text, string.Empty);
        var selectors = new List<string>();
        foreach (Match match in Selector().Matches(text))
        {
            var name = match.Groups["name"].Value;
            if (Keywords.Contains(name))
            {
                continue;
            }

            var selector = name + match.Groups["matchers"].Value;
            if (!selectors.Contains(selector, StringComparer.Ordinal))
            {
                selectors.Add(selector);
            }
        }

        return selectors;
    }

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal) { "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right" };

    private static TimeSpan ParseDuration(string text)
    {
        var value = double.Parse(text[..^1], System.Globalization.CultureInfo.InvariantCulture);
        return text[^1] switch
        {
            's' => TimeSpan.FromSeconds(value),
            'm' => TimeSpan.FromMinutes(value),
            'h' => TimeSpan.FromHours(value),
            _ => throw new FormatException($"unsupported duration '{text}'"),
        };
    }

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex RangeWindow();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex LabelList();

    // A whole identifier (not the tail of a word or of a number such as 0.8), not followed by "(".
    [GeneratedRegex(@"(?<![\w.])(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?![a-zA-Z0-9_:])\s*(?<matchers>\{[^}]*\})?(?!\s*\()")]
    private static partial Regex Selector();
}
