using MassTransit;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using PdM.Hosting;
using PdM.Lineage.Api;
using PdM.Lineage.Audit;
using PdM.Lineage.Consumers;
using PdM.Lineage.Graph;
using PdM.Lineage.Persistence;
using PdM.Persistence;

namespace PdM.Lineage;

/// <summary>Audit and lineage: the hash-chained record of who changed what, and the graph from data to work-order outcome.</summary>
public static class LineageModule
{
    public const string Name = "Lineage";

    public static PdMModule Descriptor { get; } = new(Name, AddLineage, AddLineageConsumers, MapLineage, typeof(LineageDbContext));

    public static void AddLineage(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddPdMModuleDbContext<LineageDbContext>(LineageDbContext.Schema);
        builder.Services.TryAddSingleton<LineageTelemetry>();
        builder.Services.AddValidatedOptions<LineageOptions>(LineageOptions.Section);
        builder.Services.TryAddScoped<AuditLog>();
        builder.Services.TryAddScoped<LineageGraph>();
        builder.Services.TryAddScoped<OpenLineage.OpenLineageExporter>();
        builder.Services.AddHostedService<AuditRetentionService>();
    }

    public static void AddLineageConsumers(IBusRegistrationConfigurator bus)
    {
        ArgumentNullException.ThrowIfNull(bus);
        bus.AddConsumer<AuditConsumer>().Endpoint(e => e.Name = "lineage-audit");
        bus.AddConsumer<LineageGraphConsumer>().Endpoint(e => e.Name = "lineage-graph");
    }

    public static void MapLineage(IEndpointRouteBuilder endpoints)
    {
        AuditEndpoints.Map(endpoints);
        LineageEndpoints.Map(endpoints);
    }
}
