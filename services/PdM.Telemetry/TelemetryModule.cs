using MassTransit;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using PdM.Hosting;
using PdM.Persistence;
using PdM.Telemetry.Api;
using PdM.Telemetry.Consumers;
using PdM.Telemetry.Outbox;
using PdM.Telemetry.Persistence;
using PdM.Telemetry.Store;
using PdM.Telemetry.Training;

namespace PdM.Telemetry;

/// <summary>
/// The feature store (gateway feature batches by binary COPY into daily partitions, labels, dataset imports and
/// snapshots) and training runs over snapshots (<c>TrainModel</c> by HTTP or bus, model packages into the model store and, through the
/// module's outbox, to the registry as Candidates).
/// </summary>
public static class TelemetryModule
{
    public const string Name = "Telemetry";

    public static PdMModule Descriptor { get; } = new(Name, AddTelemetry, AddTelemetryConsumers, MapTelemetry, typeof(TelemetryDbContext));

    public static void AddTelemetry(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddPdMModuleDbContext<TelemetryDbContext>(TelemetryDbContext.Schema);
        builder.Services.TryAddSingleton<FeatureStoreTelemetry>();
        builder.Services.AddValidatedOptions<FeatureStoreOptions>(FeatureStoreOptions.Section);
        builder.Services.AddValidatedOptions<TrainingOptions>(TrainingOptions.Section);
        builder.Services.AddPdMOutbox<TelemetryDbContext>(TelemetryDbContext.Schema, TelemetryOutbox.Routes)
            .Configure(outbox =>
            {
                // Registrations carry whole packages: fewer rows per round, and nobody needs them after a day.
                outbox.BatchSize = 20;
                outbox.Retention = TimeSpan.FromDays(1);
            })
            .BindConfiguration(TelemetryOutbox.Section);
        builder.Services.TryAddSingleton<TelemetryOutbox>();

        builder.Services.TryAddSingleton<PartitionManager>();
        builder.Services.TryAddSingleton<FeatureStore>();
        builder.Services.TryAddSingleton<DatasetImporter>();
        builder.Services.TryAddScoped<SnapshotService>();
        builder.Services.TryAddSingleton<TrainingRunChannel>();
        builder.Services.TryAddScoped<TrainingRunScheduler>();
        builder.Services.TryAddSingleton<TrainingRunner>();
        builder.Services.AddHostedService(services => services.GetRequiredService<TrainingRunner>());
        builder.Services.TryAddSingleton<FeatureStoreMaintenance>();
        builder.Services.AddHostedService(services => services.GetRequiredService<FeatureStoreMaintenance>());
    }

    public static void AddTelemetryConsumers(IBusRegistrationConfigurator bus)
    {
        ArgumentNullException.ThrowIfNull(bus);
        bus.AddConsumer<FeatureWindowsCollectedConsumer>().Endpoint(e => e.Name = "telemetry-feature-windows-collected");
        bus.AddConsumer<MaintenanceOutcomeRecordedConsumer>().Endpoint(e => e.Name = "telemetry-maintenance-outcome-recorded");
        bus.AddConsumer<TrainModelConsumer>().Endpoint(e => e.Name = "telemetry-train-model");
        bus.AddConsumer<TrainedModelRegistrationConsumer>().Endpoint(e => e.Name = "telemetry-trained-model-registration");
    }

    public static void MapTelemetry(IEndpointRouteBuilder endpoints)
    {
        TrainingEndpoints.Map(endpoints);
        SnapshotEndpoints.Map(endpoints);
        DatasetImportEndpoints.Map(endpoints);
    }
}
