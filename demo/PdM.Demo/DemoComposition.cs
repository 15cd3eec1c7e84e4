using Microsoft.Extensions.DependencyInjection.Extensions;
using PdM.Cmms.Stubs;
using PdM.Edge.Gateway;
using PdM.Edge.Gateway.Deployment;
using PdM.Edge.Gateway.Pipeline;
using PdM.Edge.Simulator;
using PdM.Host;
using PdM.Hosting;

namespace PdM.Demo;

/// <summary>
/// The all-in-one demo around PdM.Host's composition of the modules: an embedded MQTT broker, the gateway and the
/// simulator in-process, the CMMS stubs, and the demo's data scientist and approver. Modules are reached only through
/// their public registration (PdM.Host), the bus messages they publish and the HTTP API a person uses.
/// </summary>
public static class DemoComposition
{
    public const string Environment = "Demo";

    /// <summary>The demo runs in the Demo environment unless the command line names another (Development).</summary>
    public static string[] WithDemoEnvironment(string[] args) => ["--environment", Environment, .. args];

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var edge = new DemoEdgeOptions();
        var approval = false;
        return HostComposition.Build(WithDemoEnvironment(args), new HostAdditions
        {
            Configure = builder =>
            {
                configure?.Invoke(builder);
                RequireDemoEnvironment(builder.Environment);
                builder.Configuration.GetSection(DemoEdgeOptions.Section).Bind(edge);
                approval = builder.Configuration.GetValue($"{DemoApprovalOptions.Section}:{nameof(DemoApprovalOptions.Enabled)}", true);
                DemoSigningKey.Configure(builder.Configuration, StateDirectory(builder));
            },
            // As before the split: the plant side starts after the modules and the bus, and stops before them.
            Services = builder => AddDemo(builder, edge),
            Consumers = (bus, configuration) =>
            {
                if (edge.Gateway)
                {
                    GatewayModule.AddGatewayConsumers(bus, configuration);
                }

                if (approval)
                {
                    bus.AddConsumer<DemoApprover>().Endpoint(e => e.Name = "demo-auto-approval");
                }
            },
            Endpoints = app =>
            {
                if (edge.Gateway)
                {
                    app.MapEdgeDecisionEndpoints();
                }
            },
            Describe = _ => (edge.Gateway ? " + gateway" : "") + (edge.Simulator ? " + simulator" : "") +
                (edge.EmbeddedBroker ? $" + MQTT broker on 127.0.0.1:{edge.EmbeddedBrokerPort}" : ""),
        });
    }

    private static void RequireDemoEnvironment(IWebHostEnvironment environment)
    {
        if (!environment.IsEnvironment(Environment) && !environment.IsDevelopment())
        {
            // The demo approves models without a person and mints any identity: never in a real environment.
            throw new InvalidOperationException(
                $"PdM.Demo runs only in the Demo or Development environment, not in '{environment.EnvironmentName}': it approves models without a person's review. Run PdM.Host for anything real.");
        }
    }

    private static void AddDemo(WebApplicationBuilder builder, DemoEdgeOptions edge)
    {
        var services = builder.Services;
        services.AddValidatedOptions<DemoEdgeOptions>(DemoEdgeOptions.Section);
        services.AddValidatedOptions<DemoTrainingOptions>(DemoTrainingOptions.Section);
        services.AddValidatedOptions<DemoApprovalOptions>(DemoApprovalOptions.Section);
        services.AddHttpClient(DemoApi.HttpClientName);
        services.TryAddSingleton<DemoApi>();

        if (edge.EmbeddedBroker)
        {
            services.AddHostedService<EmbeddedMqttBroker>();
        }

        if (edge.Gateway)
        {
            builder.AddEdgeGateway();
            services.RemoveAll<IRegistryAccessTokenSource>();
            services.AddSingleton<IRegistryAccessTokenSource, DemoGatewayTokenSource>();
        }

        if (edge.Simulator)
        {
            builder.AddPlantSimulator();
        }

        // The Maximo/SAP contract stubs on loopback, so work orders land in a "CMMS" and the console shows them.
        if (builder.Configuration.GetValue<bool>($"{CmmsStubOptions.Section}:{nameof(CmmsStubOptions.Enabled)}"))
        {
            services.AddCmmsStubs(builder.Configuration);
            services.AddHostedService<CmmsStubHostedService>();
        }

        if (builder.Configuration.GetValue($"{DemoTrainingOptions.Section}:{nameof(DemoTrainingOptions.Enabled)}", true))
        {
            services.AddHostedService<DemoTrainer>();
        }
    }

    /// <summary><c>Demo:StateDirectory</c>, else <c>$PDM_STATE_DIR/demo</c>, else <c>.state/demo</c> beside the executable.</summary>
    private static string StateDirectory(WebApplicationBuilder builder)
    {
        if (builder.Configuration["Demo:StateDirectory"] is { Length: > 0 } configured)
        {
            return Path.GetFullPath(configured, builder.Environment.ContentRootPath);
        }

        var root = System.Environment.GetEnvironmentVariable("PDM_STATE_DIR");
        return Path.Combine(string.IsNullOrWhiteSpace(root) ? Path.Combine(builder.Environment.ContentRootPath, ".state") : root, "demo");
    }
}
