using Microsoft.Extensions.Configuration.Memory;
using PdM.Hosting;
using PdM.Messaging;

namespace PdM.Edge.Gateway;

/// <summary>The standalone gateway process: the same composition Program.cs runs and the tests start.</summary>
public static class GatewayApplication
{
    /// <summary>
    /// Lowest-priority defaults, in code rather than an appsettings.json so that a host that references this project
    /// (the demo, the tests) never picks up the gateway's settings file in place of its own.
    /// </summary>
    private static readonly Dictionary<string, string?> Defaults = new()
    {
        ["Urls"] = "http://127.0.0.1:5081",
        ["Messaging:Transport"] = "RabbitMq",
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:MassTransit"] = "Warning",
    };

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = Defaults });
        configure?.Invoke(builder);
        builder.AddPdMServiceDefaults("pdm-gateway");
        builder.AddPdMMessaging(bus => GatewayModule.AddGatewayConsumers(bus, builder.Configuration));
        builder.AddEdgeGateway();

        var app = builder.Build();
        app.MapPdMDefaultEndpoints();
        return app;
    }
}
