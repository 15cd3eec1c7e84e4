using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace PdM.Edge.Journal;

public static class JournalServiceCollectionExtensions
{
    /// <summary>
    /// Binds the <c>Journal</c> options (validated at start) and registers <see cref="EdgeJournal"/> as a singleton,
    /// opened on first use and closed (WAL checkpointed) when the container is disposed.
    /// </summary>
    public static IServiceCollection AddEdgeJournal(this IServiceCollection services, string configSectionPath = JournalOptions.SectionName)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<JournalOptions>()
            .BindConfiguration(configSectionPath)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JournalOptions>, JournalOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<JournalTelemetry>();
        services.TryAddSingleton(sp => EdgeJournal.Open(
            sp.GetRequiredService<IOptions<JournalOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<JournalTelemetry>()));
        return services;
    }
}
