using Microsoft.Extensions.Logging.Abstractions;

namespace PdM.Edge.Inference.Tests;

public sealed class ExecutionProviderTests
{
    [Fact]
    public async Task Auto_on_this_cpu_only_machine_reports_cpu_and_still_scores()
    {
        await using var h = new InferenceHarness(new InferenceOptions { ExecutionProvider = "auto", MaxBatchWaitMs = 0 });
        h.Deploy("logreg_failure");

        var decision = await h.Decide(InferenceHarness.Golden("logreg_failure", "failure_probability")[0].Input);

        Assert.Equal("cpu", h.Slots.ActiveProvider);
        Assert.Equal("cpu", h.Policy.ActiveProvider);
        Assert.Equal(Contracts.Decisions.DecisionPath.Model, decision.Provenance.Path);
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("tensorrt")]
    [InlineData("cpu")]
    public void A_requested_provider_that_is_not_available_falls_back_to_cpu(string requested)
    {
        var selector = new ExecutionProviderSelector(new InferenceOptions { ExecutionProvider = requested }, NullLogger.Instance);

        Assert.Equal("cpu", selector.ActiveProvider);
        using var options = selector.CreateSessionOptions();
        Assert.Equal(1, options.IntraOpNumThreads);
        Assert.Equal(1, options.InterOpNumThreads);
    }
}
