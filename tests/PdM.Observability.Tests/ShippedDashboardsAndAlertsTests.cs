using System.Diagnostics;
using PdM.Testing;
using Xunit.Abstractions;

namespace PdM.Observability.Tests;

/// <summary>
/// What an IT team installs: the Grafana dashboards and the Prometheus alert rules in this repository, checked against
/// a real Prometheus scraping the running platform (the demo: gateway, simulator, Maintenance and the CMMS stubs in one
/// process, its bus on the real RabbitMQ), RabbitMQ's own Prometheus plugin and Debian's PostgreSQL exporter on the
/// database the platform uses, so a panel or an alert can never silently refer to a metric that was renamed or never
/// existed.
/// </summary>
public sealed class ShippedDashboardsAndAlertsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Promtool_accepts_the_shipped_alert_rules_and_every_rule_says_what_to_do()
    {
        var promtool = Path.Combine(Path.GetDirectoryName(PrometheusServer.Executable())!, "promtool");
        var start = new ProcessStartInfo(promtool, ["check", "rules", ShippedObservability.AlertsFile]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var text = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, text);

        var runbook = await File.ReadAllTextAsync(Path.Combine(LocalDependencies.RepositoryRoot, "docs", "operations.md"));
        foreach (var rule in ShippedObservability.AlertRules())
        {
            Assert.False(string.IsNullOrWhiteSpace(rule.Annotations.GetValueOrDefault("summary")), $"{rule.Name} has no summary");
            Assert.False(string.IsNullOrWhiteSpace(rule.Annotations.GetValueOrDefault("description")), $"{rule.Name} has no description");
            Assert.Equal($"docs/operations.md#{rule.Name.ToLowerInvariant()}", rule.Annotations.GetValueOrDefault("runbook_url"));
            Assert.Contains($"### {rule.Name}", runbook, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_selectors_of_an_alert_expression_are_its_metrics_with_their_matchers_and_nothing_else()
    {
        var selectors = ShippedObservability.Selectors(
            "sum by (job, instance) (rate(pdm_decisions_total{path=\"rules\", reason!=\"no_model\"}[10m])) / sum by (job, instance) (rate(pdm_decisions_total[10m])) > 0.2"
            + " and on (instance) pdm_journal_bytes / pdm_journal_quota_bytes > 0.8 or vector(0)");

        Assert.Equal(["pdm_decisions_total{path=\"rules\", reason!=\"no_model\"}", "pdm_decisions_total", "pdm_journal_bytes", "pdm_journal_quota_bytes"], selectors);
    }

    [Fact]
    public async Task Every_panel_and_alert_resolves_against_the_running_platform_and_the_breaker_alert_fires_when_the_CMMS_goes_down()
    {
        var panels = ShippedObservability.PanelQueries();
        var rules = ShippedObservability.AlertRules();
        Assert.NotEmpty(panels);
        Assert.NotEmpty(rules);

        await using var database = await TestDatabase.CreateAsync("observability");
        // The bus on the real RabbitMQ, as deployed: the Platform dashboard's queue panels show the platform's queues.
        var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("observability"));
        await using var postgresExporter = await PostgresExporter.StartAsync(database.ConnectionString);
        var state = Path.Combine(Path.GetTempPath(), "pdm-tests", database.Name);
        var httpPort = DemoProcess.FreePort();
        var mqttPort = DemoProcess.FreePort();
        var cmmsPort = DemoProcess.FreePort();
        // The CMMS (the demo's Maximo stub) behind a proxy the test can cut: "the CMMS goes down".
        await using var cmms = new LoopbackTcpProxy("127.0.0.1", cmmsPort);
        string[] settings =
        [
            $"--ConnectionStrings:Postgres={database.ConnectionString}",
            $"--Urls=http://127.0.0.1:{httpPort}",
            "--Messaging:Transport=RabbitMq",
            $"--Messaging:RabbitMq:Uri={vhost}",
            $"--Demo:Edge:EmbeddedBrokerPort={mqttPort}",
            $"--Gateway:Mqtt:Port={mqttPort}",
            $"--Simulator:Mqtt:Port={mqttPort}",
            "--Simulator:DegradationSeconds=5",
            $"--CmmsStubs:Port={cmmsPort}",
            $"--Maintenance:Sites:demo-plant:Cmms:Maximo:BaseUrl=http://127.0.0.1:{cmms.Port}/maximo",
            "--Maintenance:StatusSync:Interval=00:00:02",
            "--Maintenance:Delivery:BreakerFailureThreshold=2",
            // Long enough that the breaker stays open (not half-open and closed again) while the alert's `for` runs.
            "--Maintenance:Delivery:BreakerCooldown=00:10:00",
            $"--Journal:Path={Path.Combine(state, "journal.db")}",
            $"--Inference:ModelStorePath={Path.Combine(state, "models")}",
            $"--Demo:StateDirectory={Path.Combine(state, "demo")}",
            // The stub's planner completes the first work order after 2 s, not 15: the loop closes, and the CMMS can go down, sooner.
            "--CmmsStubs:CompleteFirstAfter=00:00:02",
        ];

        var (migrateExit, migrateOutput) = await DemoProcess.RunToEndAsync(["migrate", .. settings]);
        Assert.True(migrateExit == 0, migrateOutput);

        using var demo = DemoProcess.Start(settings);
        var sinceStart = System.Diagnostics.Stopwatch.StartNew();
        void Phase(string what) => output.WriteLine(FormattableString.Invariant($"{sinceStart.Elapsed.TotalSeconds:0} s: {what}"));
        // The scrape jobs of infra/prometheus/prometheus.yml (and deps.sh's local Prometheus), on this test's processes.
        ScrapeJob[] jobs =
        [
            new("pdm", [$"127.0.0.1:{httpPort}"]),
            new("rabbitmq", [LocalDependencies.RabbitMqPrometheus]),
            new("rabbitmq-queues", [LocalDependencies.RabbitMqPrometheus], "/metrics/detailed", ["queue_coarse_metrics", "queue_consumer_count"]),
            new("postgres", [postgresExporter.Target]),
        ];
        await using var prometheus = await PrometheusServer.StartAsync(jobs, ShippedObservability.AlertsFile);
        try
        {
            // The CMMS goes down once the loop has closed one time (the first work order delivered, completed by the stub's
            // planner and read back as an outcome: deliveries, outcomes and live precision have their series by then), so
            // that the breaker alert's `for` runs while the demo trains, deploys and shadows its models, not after them.
            var breakerRule = rules.Single(r => r.Name == "PdmCmmsBreakerOpen");
            await Eventually.Until(() => Task.FromResult(demo.Console), text => text.Contains("Live precision of rules", StringComparison.Ordinal),
                TimeSpan.FromMinutes(3), "the first work order's outcome, before the CMMS goes down");
            Assert.DoesNotContain(await prometheus.AlertsAsync(), a => a.Name == breakerRule.Name);
            cmms.Refuse();
            cmms.CutAll();
            Phase("the loop closed once; the CMMS cut");

            // Every panel: the expression as Grafana sends it must evaluate and return series once the platform has run
            // long enough for the demo's model to be trained and deciding (its inference metrics exist from then on) and
            // for its challenger to be trained and scored in shadow beside it (the shadow agreement metrics). That is a
            // sequence (first training, approval, deployment, deciding, then the challenger's training, registration,
            // Shadow, deployment): about two minutes on a quiet machine, several on a loaded one; the wait ends as soon
            // as every panel has data.
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(8);
            List<(string What, string Expression, QueryResult Result)> failedPanels;
            do
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                var results = await EvaluateAsync(prometheus, panels.Select(p => ($"{p.Dashboard} / {p.Panel}", p.Expression)));
                failedPanels = [.. results.Where(r => r.Result.Error is not null || r.Result.Series == 0)];
            }
            while (failedPanels.Count > 0 && !demo.HasExited && DateTime.UtcNow < deadline);
            Assert.False(demo.HasExited, "the demo exited early");
            if (failedPanels.Count > 0)
            {
                // The demo's lifecycle lines, which the tail of the console printed below may no longer hold.
                output.WriteLine(string.Join('\n', demo.Console.Split('\n').Where(l => l.Contains("Demo: ", StringComparison.Ordinal)
                    || l.Contains("DEMO AUTO-APPROVAL", StringComparison.Ordinal) || l.Contains("shadow", StringComparison.OrdinalIgnoreCase))));
            }

            Assert.True(failedPanels.Count == 0, "panels without data after 8 minutes of traffic:\n" + string.Join('\n', failedPanels.Select(r => $"{r.What}: {r.Expression} -> {r.Result}")));
            Phase($"{panels.Count} panel queries of {panels.Select(p => p.Dashboard).Distinct().Count()} dashboards return series");

            // Every alert: its whole expression must evaluate without error (a quiet alert returns nothing, so that is all
            // the whole can show), and every metric selector inside it must return series: "no series" there means the
            // rule watches a metric the platform does not export.
            var selectorChecks = rules.SelectMany(rule => ShippedObservability.Selectors(rule.Expression).Select(s => ($"{rule.Name} selector", s))).ToList();
            Assert.True(selectorChecks.Count >= rules.Count, "every rule has at least one selector");
            var selectorResults = await EvaluateAsync(prometheus, selectorChecks);
            var wholeResults = await EvaluateAsync(prometheus, rules.Select(r => (r.Name, r.Expression)));
            var failedAlerts = selectorResults.Where(r => r.Result.Error is not null || r.Result.Series == 0)
                .Concat(wholeResults.Where(r => r.Result.Error is not null)).ToList();
            Assert.True(failedAlerts.Count == 0, "alert rules watching nothing:\n" + string.Join('\n', failedAlerts.Select(r => $"{r.What}: {r.Expression} -> {r.Result}")));
            output.WriteLine($"{selectorResults.Count} selectors of {rules.Count} alert rules return series");

            // Prometheus loaded every shipped rule and evaluates each without error.
            var loaded = await Eventually.Until(prometheus.RulesAsync, list => list.Count == rules.Count && list.All(r => r.Health == "ok"), TimeSpan.FromSeconds(30), "every rule loaded and healthy");
            Assert.Equal(rules.Select(r => r.Name).Order(StringComparer.Ordinal), loaded.Select(r => r.Name).Order(StringComparer.Ordinal));

            // The CMMS down since before the panels: deliveries and status reads fail, the breaker opens, and Prometheus
            // reports the breaker alert firing once it has held for the rule's `for` (the deadline is that plus slack for
            // a loaded machine).
            await Eventually.Until(() => prometheus.QueryAsync("max(pdm_maintenance_breaker_state) > 0"), r => r.Series > 0, TimeSpan.FromMinutes(2), "the CMMS breaker to open");
            Phase("Prometheus sees the breaker open");
            var firing = await Eventually.Until(
                prometheus.AlertsAsync,
                alerts => alerts.Any(a => a.Name == breakerRule.Name && a.State == "firing"),
                breakerRule.For + TimeSpan.FromSeconds(90),
                $"{breakerRule.Name} to fire");
            Phase(string.Join('\n', firing.Select(a => $"{a.Name} {a.State} {a.Labels}")));
            Assert.Contains(firing, a => a.Name == breakerRule.Name && a.State == "firing" && a.Labels.Contains("maximo", StringComparison.OrdinalIgnoreCase));
        }
        finally
        {
            var stopped = await demo.InterruptAsync(TimeSpan.FromSeconds(30));
            output.WriteLine(demo.Console.Length > 20_000 ? demo.Console[^20_000..] : demo.Console);
            output.WriteLine(prometheus.Log.Length > 5_000 ? prometheus.Log[^5_000..] : prometheus.Log);
            Assert.True(stopped, "the demo did not stop within 30 s of Ctrl-C");
        }
    }

    private static async Task<List<(string What, string Expression, QueryResult Result)>> EvaluateAsync(PrometheusServer prometheus, IEnumerable<(string What, string Expression)> queries)
    {
        var results = new List<(string, string, QueryResult)>();
        foreach (var (what, expression) in queries)
        {
            results.Add((what, expression, await prometheus.QueryAsync(expression)));
        }

        return results;
    }
}
