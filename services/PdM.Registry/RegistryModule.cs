using MassTransit;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Hosting;
using PdM.Persistence;
using PdM.Registry.Api;
using PdM.Registry.Application;
using PdM.Registry.Artifacts;
using PdM.Registry.Consumers;
using PdM.Registry.Outbox;
using PdM.Registry.Persistence;
using PdM.Registry.Signing;

namespace PdM.Registry;

/// <summary>Model registry: versions, content-addressed artifacts, stages per site, four-eyes promotion and signing.</summary>
public static class RegistryModule
{
    public const string Name = "Registry";

    public static PdMModule Descriptor { get; } = new(Name, AddRegistry, AddRegistryConsumers, MapRegistry, typeof(RegistryDbContext));

    public static void AddRegistry(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddPdMModuleDbContext<RegistryDbContext>(RegistryDbContext.Schema);
        builder.Services.TryAddSingleton<RegistryTelemetry>();
        builder.Services.AddValidatedOptions<RegistryOptions>(RegistryOptions.Section);
        builder.Services.TryAddSingleton<RegistryPaths>();
        builder.Services.TryAddSingleton<IArtifactStore>(services => new FileSystemArtifactStore(services.GetRequiredService<RegistryPaths>().ArtifactsDirectory));
        builder.Services.TryAddSingleton<RegistrySigningKey>();
        builder.Services.TryAddSingleton<ArtifactLinks>();
        builder.Services.TryAddScoped<ModelRegistrations>();
        builder.Services.TryAddScoped<Promotions>();
        builder.Services.TryAddScoped<ModelUploads>();
        builder.Services.TryAddSingleton<ArtifactAddresses>();

        builder.Services.AddHostedService<RegistryStartupCheck>();
        builder.Services.AddPdMOutbox<RegistryDbContext>(RegistryDbContext.Schema, RegistryOutbox.Routes)
            .Configure<IOptions<RegistryOptions>>((outbox, registry) => outbox.PollInterval = registry.Value.OutboxPollInterval);
    }

    public static void AddRegistryConsumers(IBusRegistrationConfigurator bus)
    {
        ArgumentNullException.ThrowIfNull(bus);
        bus.AddConsumer<DeploymentResultConsumer>().Endpoint(e => e.Name = "registry-deployment-results");
        bus.AddConsumer<ShadowEvaluationConsumer>().Endpoint(e => e.Name = "registry-shadow-evaluations");
        bus.AddConsumer<ModelDriftConsumer>().Endpoint(e => e.Name = "registry-model-drift");
        bus.AddConsumer<RegisterTrainedModelConsumer>().Endpoint(e => e.Name = "registry-register-trained-model");
        bus.AddConsumer<MaintenanceOutcomeConsumer>().Endpoint(e => e.Name = "registry-maintenance-outcomes");
        bus.AddConsumer<GatewayHeartbeatConsumer>().Endpoint(e => e.Name = "registry-gateway-heartbeats");
    }

    public static void MapRegistry(IEndpointRouteBuilder endpoints)
    {
        ModelEndpoints.Map(endpoints);
        ArtifactEndpoints.Map(endpoints);
        GatewayEndpoints.Map(endpoints);
    }
}

/// <summary>Fails the start when the signing key cannot be loaded (not at the first approval).</summary>
internal sealed partial class RegistryStartupCheck(RegistrySigningKey key, ILogger<RegistryStartupCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogSigningKey(logger, key.Signer.KeyId, key.Source);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 3151, Level = LogLevel.Information, Message = "Registry signs approved packages with key {KeyId} from {Source}")]
    private static partial void LogSigningKey(ILogger logger, string keyId, string source);

}
