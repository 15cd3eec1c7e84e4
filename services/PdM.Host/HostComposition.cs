using PdM.Authentication;
using PdM.Cmms.Stubs;
using PdM.Edge.Gateway;
using PdM.Edge.Gateway.Pipeline;
using PdM.Edge.Simulator;
using PdM.Hosting;
using PdM.Messaging;
using PdM.Security;

namespace PdM.Host;

/// <summary>Composes the selected modules (and, for the demo, the in-process edge) into one web host with one bus.</summary>
public static class HostComposition
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(HostDefaults.Options(args));
        configure?.Invoke(builder);
        builder.AddPdMServiceDefaults("pdm-host");
        builder.AddPdMAuthentication();

        var modules = ModuleCatalog.Select(builder.Configuration);
        foreach (var module in modules)
        {
            module.AddServices(builder);
        }

        builder.Services.AddValidatedOptions<EdgeOptions>(EdgeOptions.Section);
        var edge = builder.Configuration.GetSection(EdgeOptions.Section).Get<EdgeOptions>() ?? new EdgeOptions();
        builder.AddPdMMessaging(bus =>
        {
            foreach (var module in modules)
            {
                module.AddConsumers(bus);
            }

            if (edge.Gateway)
            {
                GatewayModule.AddGatewayConsumers(bus, builder.Configuration);
            }
        });
        if (edge.EmbeddedBroker)
        {
            builder.Services.AddHostedService<EmbeddedMqttBroker>();
        }

        if (edge.Gateway)
        {
            builder.AddEdgeGateway();
            InProcessGateway.Add(builder.Services, registryInProcess: modules.Any(m => m.Name == PdM.Registry.RegistryModule.Name));
        }

        if (edge.Simulator)
        {
            builder.AddPlantSimulator();
        }

        // Demo: train a C-MAPSS model in the background so decisions move from the rules to a model (Demo:Training).
        if (builder.Configuration.GetValue<bool>($"{Demo.DemoTrainingOptions.Section}:{nameof(Demo.DemoTrainingOptions.Enabled)}")
            && modules.Any(m => m.Name == PdM.Telemetry.TelemetryModule.Name))
        {
            builder.Services.AddValidatedOptions<Demo.DemoTrainingOptions>(Demo.DemoTrainingOptions.Section);
            builder.Services.AddHostedService<Demo.DemoTrainingService>();
        }

        // Demo: the Maximo/SAP contract stubs on loopback, so work orders land in a "CMMS" and the console shows them.
        if (builder.Configuration.GetValue<bool>($"{CmmsStubOptions.Section}:{nameof(CmmsStubOptions.Enabled)}"))
        {
            builder.Services.AddCmmsStubs(builder.Configuration);
            builder.Services.AddHostedService<CmmsStubHostedService>();
        }

        var app = builder.Build();
        app.MapPdMDefaultEndpoints();
        app.MapPdMAuthEndpoints();
        foreach (var module in modules)
        {
            module.MapEndpoints(app);
        }

        if (edge.Gateway)
        {
            app.MapEdgeDecisionEndpoints();
        }

        app.UsePdMEndpointPolicyGuard();

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var urls = string.Join(", ", app.Urls);
            Console.WriteLine($"PdM host up: modules [{string.Join(", ", modules.Select(m => m.Name))}]" +
                $"{(edge.Gateway ? " + gateway" : "")}{(edge.Simulator ? " + simulator" : "")}{(edge.EmbeddedBroker ? $" + MQTT broker on 127.0.0.1:{edge.EmbeddedBrokerPort}" : "")}");
            Console.WriteLine($"Work orders: {urls.Split(", ")[0]}/api/work-orders   health: /health/ready   metrics: /metrics");
        });
        return app;
    }
}
