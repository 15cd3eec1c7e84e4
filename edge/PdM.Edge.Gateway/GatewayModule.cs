using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PdM.Edge.Gateway.Mqtt;
using PdM.Edge.Gateway.Pipeline;
using PdM.Edge.Gateway.Uplink;
using PdM.Edge.Gateway.Models;
using PdM.Edge.Inference;
using PdM.Edge.Ingestion;
using PdM.Edge.Journal;
using PdM.Edge.Ingestion.Model;
using PdM.Features;
using PdM.ServiceDefaults;

namespace PdM.Edge.Gateway;

public static class GatewayModule
{
    /// <summary>
    /// Registers the gateway on any host: standalone (Program.cs) or inside PdM.Host for the all-in-one demo. The host
    /// provides the bus (AddPdMMessaging); the gateway only publishes, so it adds no consumers.
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
        services.AddSingleton(sp => new FeatureStage(
            sp.GetRequiredService<AssetModel>(),
            DefaultFeatureSpec.Load(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.FeatureSpecPath),
            sp.GetRequiredService<FeatureTelemetry>()));
        services.AddSingleton<IngestChannel>();
        services.AddSingleton<MqttPublisher>();

        // Deciding: the deployed model, else the rules (PdM.Edge.Inference + PdM.Edge.Rules).
        services.AddSingleton<JournalInferenceEventSink>();
        services.AddSingleton<IInferenceEventSink>(sp => sp.GetRequiredService<JournalInferenceEventSink>());
        services.AddHostedService(sp => sp.GetRequiredService<JournalInferenceEventSink>());
        services.AddPdmInference();
        services.AddOptions<InferenceOptions>().Configure<IOptions<GatewayOptions>>((inference, gateway) => inference.GatewayId = gateway.Value.EffectiveGatewayId);
        services.AddSingleton<DecisionStage>();

        // Store and forward: events are journaled (SQLite, fsynced) before the MQTT acknowledgement, then sent.
        services.AddEdgeJournal();
        services.AddSingleton<EventJournal>();
        services.AddHostedService<JournalUplinkService>();
        services.AddHostedService<ModelStoreLoader>();
        services.AddHostedService<TelemetryPipeline>();
        services.AddHostedService<MqttIngestService>();
        return builder;
    }

    private static IReadOnlyList<string> ValidateAssetModel(SiteAssetModelOptions model) =>
        model.Assets.Count == 0
            ? ["AssetModel:Assets is empty: the gateway validates every reading against the site's asset model, so list the assets and their sensors"]
            : model.Validate();
}
