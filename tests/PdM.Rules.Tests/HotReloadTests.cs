using PdM.Contracts.Decisions;
using PdM.Testing;

namespace PdM.Rules.Tests;

public sealed class HotReloadTests : IDisposable
{
    // Generous: the watcher normally reloads within the 100 ms debounce; this only bounds a broken watcher.
    private static readonly TimeSpan ReloadDeadline = TimeSpan.FromSeconds(30);

    private readonly TempRulesetFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static RulesDecision Kiln(RulesEvaluator evaluator, double temperature) =>
        evaluator.Evaluate(new RulesInput
        {
            AssetId = "kiln-1",
            AssetClass = "kiln",
            Facts = new Dictionary<string, double> { ["temperature_c"] = temperature, ["pressure_bar"] = 1 },
        });

    private static RulesEvaluator EvaluatorFor(RulesetStore store) => new(store, new RulesTelemetry(), new ManualTimeProvider(Shipped.Now, realTimers: true));

    /// <summary>Completes with the first reload whose result satisfies <paramref name="predicate"/>.</summary>
    private static async Task<RulesetReload> NextReload(RulesetStore store, Func<RulesetReload, bool> predicate, Action change)
    {
        var reloaded = new TaskCompletionSource<RulesetReload>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Handler(object? sender, RulesetReload reload)
        {
            if (predicate(reload))
            {
                reloaded.TrySetResult(reload);
            }
        }

        store.Reloaded += Handler;
        try
        {
            change();
            return await reloaded.Task.WaitAsync(ReloadDeadline);
        }
        finally
        {
            store.Reloaded -= Handler;
        }
    }

    [Fact]
    public async Task A_new_version_written_to_the_folder_answers_the_next_evaluation_and_a_broken_one_is_rejected()
    {
        _folder.WriteThreshold("kiln", "kiln", "1.0.0", 80);
        using var store = RulesetStore.Open(_folder.Root, watchForChanges: true, debounce: TimeSpan.FromMilliseconds(100));
        var evaluator = EvaluatorFor(store);
        Assert.Equal(HealthState.Alert, Kiln(evaluator, 85).HealthState);

        // 1.1.0 raises the limit to 90: 85 °C becomes healthy.
        await NextReload(store, r => r.Active.Any(a => a.Version == "1.1.0"), () => _folder.WriteThreshold("kiln", "kiln", "1.1.0", 90));
        var afterUpgrade = Kiln(evaluator, 85);
        Assert.Equal((HealthState.Healthy, "1.1.0"), (afterUpgrade.HealthState, afterUpgrade.RulesetVersion));
        Assert.Equal("1.1.0", Kiln(evaluator, 90).RulesetVersion);
        Assert.Equal(HealthState.Alert, Kiln(evaluator, 90).HealthState);

        // 1.2.0 references a fact nobody declared: rejected, 1.1.0 keeps answering.
        var broken = _folder.PathOf("kiln", "kiln", "1.2.0");
        var rejected = await NextReload(store, r => r.Problems.Any(p => p.FilePath == broken),
            () => _folder.WriteThreshold("kiln", "kiln", "1.2.0", 70, expression: "kiln_temperature >= 70"));
        var problem = Assert.Single(rejected.Problems);
        Assert.Equal("too-hot", problem.RuleName);
        Assert.Contains("kiln_temperature", problem.Message, StringComparison.Ordinal);
        Assert.Equal(problem, Assert.Single(store.Problems));
        var afterBroken = Kiln(evaluator, 85);
        Assert.Equal((HealthState.Healthy, "1.1.0"), (afterBroken.HealthState, afterBroken.RulesetVersion));

        // Deleting the broken file clears the problem.
        await NextReload(store, r => r.Problems.Count == 0, () => File.Delete(broken));
        Assert.Equal("1.1.0", store.Find("kiln")!.Version);
    }

    [Fact]
    public void A_file_broken_in_place_keeps_its_last_good_content_answering()
    {
        var path = _folder.WriteThreshold("kiln", "kiln", "1.0.0", 80);
        using var store = RulesetStore.Open(_folder.Root);
        var evaluator = EvaluatorFor(store);

        File.WriteAllText(path, Template.Threshold("kiln", "1.0.0", "kiln", 80).Replace("\"Degraded\"", "\"Dire\"", StringComparison.Ordinal));
        var reload = store.Reload();

        var problem = Assert.Single(reload.Problems);
        Assert.Equal((path, "too-hot"), (problem.FilePath, problem.RuleName));
        Assert.Contains("keeps answering", problem.Message, StringComparison.Ordinal);
        Assert.Equal(HealthState.Alert, Kiln(evaluator, 85).HealthState);

        // Fixed again with a new limit: the fix answers and the problem is gone.
        File.WriteAllText(path, Template.Threshold("kiln", "1.0.0", "kiln", 84));
        Assert.Empty(store.Reload().Problems);
        Assert.Equal(84, Kiln(evaluator, 84.5).Evidence[0].Limit);
    }

    [Fact]
    public void Unchanged_files_are_not_recompiled_on_reload()
    {
        _folder.WriteThreshold("kiln", "kiln", "1.0.0", 80);
        using var store = RulesetStore.Open(_folder.Root);
        var before = store.Find("kiln");

        store.Reload();

        Assert.Same(before, store.Find("kiln"));
        Assert.Equal(2, store.Generation);
    }

    [Fact]
    public void Removing_the_highest_version_falls_back_to_the_previous_one()
    {
        _folder.WriteThreshold("kiln", "kiln", "1.0.0", 80);
        var newer = _folder.WriteThreshold("kiln", "kiln", "2.0.0", 90);
        using var store = RulesetStore.Open(_folder.Root);
        Assert.Equal("2.0.0", store.Find("kiln")!.Version);

        File.Delete(newer);
        store.Reload();

        Assert.Equal("1.0.0", store.Find("kiln")!.Version);
    }
}
