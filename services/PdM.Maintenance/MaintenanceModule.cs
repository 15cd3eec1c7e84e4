using MassTransit;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using PdM.Hosting;
using PdM.Maintenance.Api;
using PdM.Maintenance.Cmms;
using PdM.Maintenance.Consumers;
using PdM.Maintenance.Feedback;
using PdM.Maintenance.Outbox;
using PdM.Maintenance.Persistence;
using PdM.Maintenance.Policy;
using PdM.Persistence;

namespace PdM.Maintenance;

/// <summary>Cases, work-order policy, CMMS adapters and outcome feedback: predictions in, records in the planners' CMMS out.</summary>
public static class MaintenanceModule
{
    public const string Name = "Maintenance";

    public static PdMModule Descriptor { get; } = new(Name, AddMaintenance, AddMaintenanceConsumers, MapMaintenance, typeof(MaintenanceDbContext));

    public static void AddMaintenance(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddPdMModuleDbContext<MaintenanceDbContext>(MaintenanceDbContext.Schema);
        builder.Services.TryAddSingleton<MaintenanceTelemetry>();

        builder.Services.AddValidatedOptions<MaintenanceOptions>(MaintenanceOptions.Section);
        builder.Services.TryAddSingleton<SiteDirectory>();
        builder.Services.TryAddSingleton<CircuitBreakers>();
        builder.Services.TryAddSingleton<CmmsAdapterFactory>();
        builder.Services.TryAddScoped<OutboxWriter>();
        builder.Services.TryAddScoped<CaseCloser>();
        builder.Services.AddHttpClient(CmmsAdapterFactory.HttpClientName, (services, http) =>
                http.Timeout = services.GetRequiredService<IOptions<MaintenanceOptions>>().Value.Delivery.RequestTimeout)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // Cookies are per CMMS session (SAP), kept by the adapter, never shared through a pooled handler.
                UseCookies = false,
                AllowAutoRedirect = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            });
        builder.Services.AddSingleton<IOutboxHandler<MaintenanceDbContext>, CmmsDelivery>();
        builder.Services.AddPdMOutbox<MaintenanceDbContext>(MaintenanceDbContext.Schema, OutboxWriter.Routes)
            .Configure<IOptions<MaintenanceOptions>>((outbox, maintenance) =>
            {
                var delivery = maintenance.Value.Delivery;
                outbox.PollInterval = delivery.PollInterval;
                outbox.BatchSize = delivery.BatchSize;
                outbox.BackoffBase = delivery.BackoffBase;
                outbox.MaxBackoff = delivery.BackoffMax;
                outbox.LeaseDuration = delivery.LeaseDuration;
            });
        builder.Services.TryAddSingleton<StatusSyncService>();
        builder.Services.AddHostedService(services => services.GetRequiredService<StatusSyncService>());
    }

    public static void AddMaintenanceConsumers(IBusRegistrationConfigurator bus)
    {
        ArgumentNullException.ThrowIfNull(bus);
        bus.AddConsumer<FailurePredictedConsumer>().Endpoint(e => e.Name = "maintenance-failure-predicted");
    }

    public static void MapMaintenance(IEndpointRouteBuilder endpoints)
    {
        WorkOrderEndpoints.Map(endpoints);
        CaseEndpoints.Map(endpoints);
    }
}
