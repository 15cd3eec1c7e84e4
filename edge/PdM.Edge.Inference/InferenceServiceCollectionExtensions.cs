using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PdM.Rules;

namespace PdM.Edge.Inference;

public static class InferenceServiceCollectionExtensions
{
    /// <summary>
    /// Registers the slots and decision policy, with <see cref="InferenceOptions"/> bound from the <c>Inference</c>
    /// section and validated at start, and the rules fallback (<see cref="RulesFallbackDecider"/> over PdM.Rules,
    /// whose <c>AddEdgeRules</c> is called here too). Register an <see cref="IInferenceEventSink"/> first to journal
    /// lifecycle events; an <see cref="IFallbackDecider"/> registered first replaces the rules.
    /// </summary>
    public static IServiceCollection AddPdmInference(this IServiceCollection services)
    {
        services.AddOptions<InferenceOptions>()
            .BindConfiguration(InferenceOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IInferenceEventSink>(NullInferenceEventSink.Instance);
        services.TryAddSingleton(static sp => new InferenceTelemetry(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddEdgeRules();
        services.TryAddSingleton<IFallbackDecider, RulesFallbackDecider>();
        services.TryAddSingleton<ModelSlots>();
        services.TryAddSingleton(static sp => sp.GetRequiredService<ModelSlots>().StoreState);
        services.TryAddSingleton<DecisionPolicy>();
        return services;
    }
}
