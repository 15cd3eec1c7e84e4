using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Messaging;

namespace PdM.Persistence;

public static class OutboxRegistration
{
    /// <summary>
    /// The outbox of the module whose context is <typeparamref name="TContext"/> (mapped with
    /// <see cref="OutboxModel.AddPdMOutboxAndInbox"/>): its wake-up signal, its dispatcher as a hosted service, and its
    /// <see cref="OutboxOptions"/> named <paramref name="name"/> (the module's schema), returned for the module to bind.
    /// </summary>
    public static OptionsBuilder<OutboxOptions> AddPdMOutbox<TContext>(this IServiceCollection services, string name, OutboxRoutes routes)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(routes);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<OutboxTelemetry>();
        services.TryAddSingleton<OutboxSignal<TContext>>();
        services.TryAddSingleton(services => new OutboxDispatcher<TContext>(
            name,
            services.GetRequiredService<IServiceScopeFactory>(),
            services.GetRequiredService<OutboxSignal<TContext>>(),
            routes,
            services.GetRequiredService<IOptionsMonitor<OutboxOptions>>(),
            services.GetRequiredService<OutboxTelemetry>(),
            services.GetRequiredService<TimeProvider>(),
            // Absent in a host whose bus is not AddPdMMessaging's (some tests): publishes are then only retried.
            services.GetService<StalledPublishWatchdog>(),
            services.GetRequiredService<ILogger<OutboxDispatcher<TContext>>>()));
        services.AddHostedService(services => services.GetRequiredService<OutboxDispatcher<TContext>>());
        return services.AddOptions<OutboxOptions>(name).ValidateDataAnnotations().ValidateOnStart();
    }
}
