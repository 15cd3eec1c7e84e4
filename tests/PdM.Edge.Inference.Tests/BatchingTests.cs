using System.Collections.Concurrent;
using PdM.Contracts.Decisions;

namespace PdM.Edge.Inference.Tests;

/// <summary>
/// How rows become batches with no batch wait (the default): an idle slot scores a lone row on the caller's thread,
/// windows decided together share one batch, and concurrent callers each get the answer for their own row.
/// </summary>
public sealed class BatchingTests
{
    [Fact]
    public async Task A_lone_decision_on_an_idle_slot_is_made_on_the_calling_thread()
    {
        await using var h = new InferenceHarness();
        Assert.True(h.Deploy("logreg_failure").Succeeded);
        var golden = InferenceHarness.Golden("logreg_failure", "failure_probability");

        var pending = h.Decide(golden[0].Input);

        // Already answered when DecideAsync returns: no hand-off to a batcher thread and back.
        Assert.True(pending.IsCompletedSuccessfully);
        var decision = await pending;
        Assert.Equal(DecisionPath.Model, decision.Provenance.Path);
        Assert.Equal(golden[0].Expected, decision.FailureProbability!.Value, 4);
    }

    [Fact]
    public async Task Windows_decided_together_share_one_batch_and_come_back_in_order()
    {
        await using var h = new InferenceHarness();
        Assert.True(h.Deploy("logreg_failure").Succeeded);
        var golden = InferenceHarness.Golden("logreg_failure", "failure_probability");

        // Twelve windows of the milling class with two of a class that has no model among them.
        var requests = new List<DecisionRequest>();
        for (var i = 0; i < 12; i++)
        {
            requests.Add(InferenceHarness.Request(golden[i % golden.Count].Input, assetId: $"mill-{i}"));
            if (i is 3 or 8)
            {
                requests.Add(InferenceHarness.Request(golden[0].Input, assetClass: "conveyor", assetId: $"conveyor-{i}"));
            }
        }

        var decisions = new List<Decision>();
        await h.Policy.DecideAllAsync(requests, decisions);

        Assert.Equal(requests.Select(r => r.AssetId), decisions.Select(d => d.AssetId));
        var model = decisions.Where(d => d.AssetClass == InferenceHarness.Milling).ToList();
        Assert.Equal(12, model.Count);
        Assert.All(model, d => Assert.Equal(DecisionPath.Model, d.Provenance.Path));
        Assert.Single(model.Select(d => d.BatchId).Distinct());
        for (var i = 0; i < model.Count; i++)
        {
            Assert.Equal(golden[i % golden.Count].Expected, model[i].FailureProbability!.Value, 4);
        }

        var rules = decisions.Where(d => d.AssetClass == "conveyor").ToList();
        Assert.Equal(2, rules.Count);
        Assert.All(rules, d => Assert.Equal(FallbackReason.NoModel, d.FallbackReason));
    }

    [Fact]
    public async Task Concurrent_callers_with_no_batch_wait_each_get_the_answer_for_their_own_row()
    {
        await using var h = new InferenceHarness(new InferenceOptions { MaxBatchWaitMs = 0, MaxBatchSize = 8 });
        Assert.True(h.Deploy("logreg_failure").Succeeded);
        var golden = InferenceHarness.Golden("logreg_failure", "failure_probability");
        const int Workers = 6;
        const int PerWorker = 300;
        var answers = new ConcurrentBag<(int Case, Decision Decision)>();

        // Whichever caller finds the slot idle scores the queue, other callers' rows included.
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < PerWorker; i++)
            {
                var c = ((w * 7) + i) % golden.Count;
                answers.Add((c, await h.Decide(golden[c].Input, assetId: $"mill-{w}")));
            }
        })));

        Assert.Equal(Workers * PerWorker, answers.Count);
        Assert.All(answers, a =>
        {
            Assert.Equal(DecisionPath.Model, a.Decision.Provenance.Path);
            Assert.Equal(golden[a.Case].Expected, a.Decision.FailureProbability!.Value, 4);
        });
        Assert.All(answers.GroupBy(a => a.Decision.BatchId), batch => Assert.InRange(batch.Count(), 1, 8));
    }
}
