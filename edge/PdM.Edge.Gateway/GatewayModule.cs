using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PdM.Edge.Gateway.Deployment;
using PdM.Edge.Gateway.Mqtt;
using PdM.Edge.Gateway.Pipeline;
using PdM.Edge.Gateway.Uplink;
using PdM.Edge.Gateway.Models;
using PdM.Edge.Inference;
using PdM.Edge.Ingestion;
using PdM.Edge.Journal;
using PdM.Edge.Ingestion.Model;
using PdM.Features;
using PdM.Hosting;
using PdM.Messaging;

namespace PdM.Edge.Gateway;

public static class GatewayModule
{
    /// <summary>
    /// Registers the gateway on any host: standalone (Program.cs) or inside the all-in-one demo (demo/PdM.Demo). The host
    /// provides the bus (AddPdMMessaging) and adds the gateway's consumers with <see cref="AddGatewayConsumers"/>.
    /// </summary>
    public static IHostApplicationBuilder AddEdgeGateway(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<GatewayOptions>(GatewayOptions.Section);
        services.AddOptionsValidatedBy<IngestionOptions>(IngestionOptions.SectionName, o => o.Validate());
        services.AddOptionsValidatedBy<SiteAssetModelOptions>(SiteAssetModelOptions.SectionName, ValidateAssetModel)
            .Configure<IOptions<GatewayOptions>>((model, gateway) =>
            {
                // The asset model belongs to the gateway's site; naming it again is optional.
                if (string.IsNullOrEmpty(model.SiteId))
                {
                    model.SiteId = gateway.Value.SiteId;
                }
            });

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<GatewayTelemetry>();
        services.AddSingleton(sp => new IngestionTelemetry(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton(sp => new FeatureTelemetry(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton(sp => AssetModel.Create(sp.GetRequiredService<IOptions<SiteAssetModelOptions>>().Value));
        services.AddSingleton(sp => new TelemetryIngestor(
            sp.GetRequiredService<AssetModel>(),
            sp.GetRequiredService<IOptions<IngestionOptions>>().Value,
            sp.GetRequiredService<IngestionTelemetry>(),
            sp.GetRequiredService<TimeProvider>()));
        // One feature spec per asset class (Gateway:FeatureSpecs), every file checked at start.
        services.AddSingleton<IValidateOptions<GatewayOptions>, FeatureSpecsValidator>();
        services.AddSingleton<IValidateOptions<GatewayOptions>, Mqtt.BrokerTlsValidator>();
        services.AddSingleton(sp => FeatureSpecCatalog.Load(sp.GetRequiredService<IOptions<GatewayOptions>>().Value));
        services.AddSingleton(sp => new FeatureStage(
            sp.GetRequiredService<AssetModel>(),
            sp.GetRequiredService<FeatureSpecCatalog>(),
            sp.GetRequiredService<FeatureTelemetry>()));
        services.AddSingleton<FeatureUploadBatcher>();
        services.AddSingleton<DecisionBoard>();
        services.AddSingleton<IngestChannel>();
        services.AddSingleton<MqttPublisher>();
        services.AddSingleton<PubAckCoalescer>();

        // Deciding: the deployed model, else the rules (PdM.Edge.Inference + PdM.Rules).
        services.AddSingleton<JournalInferenceEventSink>();
        services.AddSingleton<IInferenceEventSink>(sp => sp.GetRequiredService<JournalInferenceEventSink>());
        services.AddHostedService(sp => sp.GetRequiredService<JournalInferenceEventSink>());
        services.AddPdmInference();
        services.AddOptions<InferenceOptions>().Configure<IOptions<GatewayOptions>>((inference, gateway) => inference.GatewayId = gateway.Value.EffectiveGatewayId);
        services.AddSingleton<DecisionStage>();
        // The inference budget: measures the pipeline's lag and deciding time, sheds healthy assets' model work when behind.
        services.AddSingleton<Shedding.InferenceBudget>();
        services.AddHostedService(sp => sp.GetRequiredService<Shedding.InferenceBudget>());

        // Store and forward: events are journaled (SQLite, fsynced) before the MQTT acknowledgement, then sent.
        services.AddEdgeJournal();
        services.AddOptionsValidatedBy<Egress.EgressOptions>(Egress.EgressOptions.Section, Egress.EgressPolicy.Validate);
        services.AddSingleton<Egress.EgressPolicy>();
        services.AddSingleton<EventJournal>();
        services.AddOptionsValidatedBy<UplinkOptions>(UplinkOptions.Section, UplinkOptions.Validate);
        services.AddSingleton<UplinkCeiling>();
        services.AddSingleton<UplinkDeadLetters>();
        services.AddHostedService<JournalUplinkService>();
        services.AddHostedService<ModelStoreLoader>();
        // Model deployments from the registry; after ModelStoreLoader, so a deployment is never overwritten by the store's start-up load.
        AddModelDeployment(services);
        services.AddHostedService<TelemetryPipeline>();
        services.AddHostedService<FeatureUploadService>();
        services.AddSingleton<Heartbeat.NvidiaSmi>();
        services.AddSingleton<Heartbeat.HeartbeatService>();
        services.AddHostedService(sp => sp.GetRequiredService<Heartbeat.HeartbeatService>());
        services.AddSingleton(sp =>
        {
            var gateway = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            return new Sharding.AssetShards(gateway.SiteId, gateway.Sharding);
        });
        services.AddSingleton<MqttIngestService>();
        services.AddHostedService(sp => sp.GetRequiredService<MqttIngestService>());
        services.AddHostedService<Sharding.ShardTakeoverService>();
        return builder;
    }

    /// <summary>
    /// The gateway's bus consumers, for the host's <c>AddPdMMessaging</c>: the registry's deployment requests on this
    /// gateway's own queue <c>pdm-gateway-{gatewayId}-deployments</c> (each gateway gets every request and keeps those
    /// for its site).
    /// </summary>
    public static void AddGatewayConsumers(IBusRegistrationConfigurator bus, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(bus);
        ArgumentNullException.ThrowIfNull(configuration);
        var gateway = configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>() ?? new GatewayOptions();
        bus.AddConsumer<ModelDeploymentRequestedConsumer>().Endpoint(e => e.Name = DeploymentInboxName(gateway.EffectiveGatewayId));
    }

    public static string DeploymentInboxName(string gatewayId) => "pdm-gateway-" + gatewayId + "-deployments";

    private static void AddModelDeployment(IServiceCollection services)
    {
        services.AddOptionsValidatedBy<DeploymentOptions>(DeploymentOptions.Section, o => o.Validate());
        services.AddHttpClient(ArtifactDownloader.HttpClientName);
        services.TryAddSingleton<IRegistryAccessTokenSource, ConfiguredRegistryAccessTokenSource>();
        services.AddSingleton<TrustedRegistryKeys>();
        services.AddSingleton<Models.StoredPackageVerifier>();
        services.AddSingleton<DeploymentLedger>();
        services.AddSingleton<DeploymentInbox>();
        services.AddSingleton<FeatureCoverage>();
        services.AddSingleton<ArtifactDownloader>();
        services.AddHostedService<DeploymentWorker>();
    }

    private static IReadOnlyList<string> ValidateAssetModel(SiteAssetModelOptions model) =>
        model.Assets.Count == 0
            ? ["AssetModel:Assets is empty: the gateway validates every reading against the site's asset model, so list the assets and their sensors"]
            : model.Validate();
}
