using Microsoft.Extensions.DependencyInjection.Extensions;
using PdM.Edge.Gateway.Mqtt;
using PdM.Edge.Gateway.Pipeline;
using PdM.Edge.Gateway.Rules;
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
        builder.Services.AddValidatedOptions<GatewayOptions>(GatewayOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<GatewayTelemetry>();
        builder.Services.AddSingleton<IngestChannel>();
        builder.Services.AddSingleton<MqttPublisher>();
        builder.Services.AddSingleton<ThresholdRuleEvaluator>();
        builder.Services.AddHostedService<TelemetryPipeline>();
        builder.Services.AddHostedService<MqttIngestService>();
        return builder;
    }
}
