using MassTransit;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Npgsql;
using PdM.Maintenance.Api;
using PdM.Maintenance.Consumers;
using PdM.Maintenance.Persistence;
using PdM.ServiceDefaults;

namespace PdM.Maintenance;

/// <summary>Cases, work-order policy and (later) CMMS adapters: predictions in, work orders out.</summary>
public static class MaintenanceModule
{
    public const string Name = "Maintenance";

    public static PdMModule Descriptor { get; } = new(Name, AddMaintenance, AddMaintenanceConsumers, MapMaintenance, typeof(MaintenanceDbContext));

    public static void AddMaintenance(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddPdMPostgres();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<MaintenanceTelemetry>();
        builder.Services.AddDbContext<MaintenanceDbContext>((services, options) =>
            options.UseNpgsql(services.GetRequiredService<NpgsqlDataSource>(), npgsql =>
                npgsql.MigrationsHistoryTable("__ef_migrations_history", MaintenanceDbContext.Schema)));
    }

    public static void AddMaintenanceConsumers(IBusRegistrationConfigurator bus)
    {
        ArgumentNullException.ThrowIfNull(bus);
        bus.AddConsumer<FailurePredictedConsumer>().Endpoint(e => e.Name = "maintenance-failure-predicted");
    }

    public static void MapMaintenance(IEndpointRouteBuilder endpoints) => WorkOrderEndpoints.Map(endpoints);
}
