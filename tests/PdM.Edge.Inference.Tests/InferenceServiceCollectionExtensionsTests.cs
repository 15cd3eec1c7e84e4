using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PdM.Contracts.Decisions;
using PdM.Testing;

namespace PdM.Edge.Inference.Tests;

public sealed class InferenceServiceCollectionExtensionsTests
{
    [Fact]
    public async Task The_registered_policy_binds_its_options_and_falls_back_to_the_rules()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Inference:ExecutionProvider"] = "auto",
            ["Inference:MaxBatchSize"] = "32",
            ["Inference:GatewayId"] = "gw-di",
            ["Rules:Directory"] = Path.Combine(LocalDependencies.RepositoryRoot, "shared", "PdM.Rules", "rulesets"),
            ["Rules:WatchForChanges"] = "false",
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddPdmInference();
        await using var provider = services.BuildServiceProvider(validateScopes: true);

        var policy = provider.GetRequiredService<DecisionPolicy>();
        var decision = await policy.DecideAsync(new DecisionRequest
        {
            AssetId = "mill-1",
            AssetClass = InferenceHarness.Milling,
            FeatureNames = InferenceHarness.Ai4iFeatures,
            FeatureValues = new float[] { 298.1f, 308.6f, 1551.0f, 42.8f, 0.0f },
            WindowStart = InferenceHarness.WindowStart,
            WindowEnd = InferenceHarness.WindowEnd,
        });

        Assert.Equal(32, provider.GetRequiredService<IOptions<InferenceOptions>>().Value.MaxBatchSize);
        Assert.Equal("cpu", policy.ActiveProvider);
        Assert.Equal(DecisionPath.Rules, decision.Provenance.Path);
        Assert.Equal("gw-di", decision.Provenance.GatewayId);
        Assert.Equal("ai4i2020-physics", decision.Provenance.RulesetName);
    }

    [Fact]
    public void An_unknown_execution_provider_fails_validation_at_start()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Inference:ExecutionProvider"] = "directml",
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddPdmInference();
        using var provider = services.BuildServiceProvider();

        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<InferenceOptions>>().Value);
    }
}
