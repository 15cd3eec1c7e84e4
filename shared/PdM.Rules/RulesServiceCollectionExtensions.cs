using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace PdM.Rules;

public static class RulesServiceCollectionExtensions
{
    /// <summary>
    /// Registers the ruleset store (loaded on first use, options validated at start) and <see cref="IRulesEvaluator"/>.
    /// </summary>
    public static IServiceCollection AddEdgeRules(this IServiceCollection services, string configSectionPath = RulesetStoreOptions.SectionName)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<RulesetStoreOptions>()
            .BindConfiguration(configSectionPath)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RulesetStoreOptions>, RulesetStoreOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RulesTelemetry>();
        services.TryAddSingleton<RulesetStore>();
        services.TryAddSingleton<RulesEvaluator>();
        services.TryAddSingleton<IRulesEvaluator>(sp => sp.GetRequiredService<RulesEvaluator>());
        return services;
    }
}
