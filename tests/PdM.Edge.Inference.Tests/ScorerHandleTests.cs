using Microsoft.ML.OnnxRuntime;
using PdM.ModelPackage;

namespace PdM.Edge.Inference.Tests;

public sealed class ScorerHandleTests
{
    [Fact]
    public void A_swapped_out_session_keeps_serving_its_running_batch_and_is_disposed_after_the_last_lease()
    {
        var package = ModelPackageLoader.Load(InferenceHarness.Model("logreg_failure")).Package!;
        var handle = new ScorerHandle(new OnnxScorer(package, "cpu", 4, 0.1));
        var (input, expected) = InferenceHarness.Golden("logreg_failure", "failure_probability")[0];

        Assert.True(handle.TryAcquire());
        handle.Release();

        // The slot let go (swap); the batch still holds its lease and scores on the old session.
        Assert.False(handle.IsDisposed);
        var results = new ModelScore[1];
        using var runOptions = new RunOptions();
        Assert.True(handle.Scorer.ScoreBatch(input, 1, results, runOptions, out _));
        Assert.Equal(expected, results[0].FailureProbability, 4);

        handle.Release();

        Assert.True(handle.IsDisposed);
        Assert.False(handle.TryAcquire());
        Assert.Throws<ObjectDisposedException>(() => handle.Scorer.ScoreBatch(input, 1, results, runOptions, out _));
    }
}
