using System.Diagnostics;
using System.Globalization;
using MassTransit;
using PdM.Authentication;
using PdM.Hosting;
using PdM.Messaging;
using PdM.Security;

namespace PdM.Host;

/// <summary>
/// What another composition adds around the modules (the all-in-one demo: an in-process plant, CMMS stubs, a demo
/// trainer and approver), through the same builder, bus and endpoint table. PdM.Host itself adds nothing.
/// </summary>
public sealed record HostAdditions
{
    /// <summary>Runs first, on the fresh builder: configuration sources, logging.</summary>
    public Action<WebApplicationBuilder>? Configure { get; init; }

    /// <summary>Runs after the modules and the bus are registered, so what it adds starts after them and stops first.</summary>
    public Action<WebApplicationBuilder>? Services { get; init; }

    /// <summary>More consumers on the one bus, after the modules' own.</summary>
    public Action<IBusRegistrationConfigurator, IConfiguration>? Consumers { get; init; }

    /// <summary>More endpoints, mapped before the endpoint policy guard checks that every one has a policy.</summary>
    public Action<WebApplication>? Endpoints { get; init; }

    /// <summary>Appended to the start-up line after the module list (e.g. " + gateway + simulator").</summary>
    public Func<IServiceProvider, string>? Describe { get; init; }
}

/// <summary>Composes the modules <c>PdM:Modules</c> selects into one web host with one bus, and nothing else.</summary>
public static class HostComposition
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null) =>
        Build(args, new HostAdditions { Configure = configure });

    public static WebApplication Build(string[] args, HostAdditions additions)
    {
        ArgumentNullException.ThrowIfNull(additions);
        var builder = WebApplication.CreateBuilder(HostDefaults.Options(args));
        additions.Configure?.Invoke(builder);
        builder.AddPdMServiceDefaults("pdm-host");
        builder.AddPdMAuthentication();
        builder.Services.AddPdMOpenApi();

        var modules = ModuleCatalog.Select(builder.Configuration);
        foreach (var module in modules)
        {
            module.AddServices(builder);
        }

        builder.AddPdMMessaging(bus =>
        {
            foreach (var module in modules)
            {
                module.AddConsumers(bus);
            }

            additions.Consumers?.Invoke(bus, builder.Configuration);
        });
        additions.Services?.Invoke(builder);

        var app = builder.Build();
        app.MapPdMDefaultEndpoints();
        app.MapPdMAuthEndpoints();
        app.MapPdMOpenApi();
        foreach (var module in modules)
        {
            module.MapEndpoints(app);
        }

        additions.Endpoints?.Invoke(app);
        app.UsePdMEndpointPolicyGuard();

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var urls = string.Join(", ", app.Urls);
            Console.WriteLine($"PdM host up: modules [{string.Join(", ", modules.Select(m => m.Name))}]{additions.Describe?.Invoke(app.Services)}");
            Console.WriteLine($"Work orders: {urls.Split(", ")[0]}/api/work-orders   health: /health/ready");
            Console.WriteLine($"Telemetry: {HostingExtensions.DescribeTelemetryDestinations(app.Configuration)}");
            _ = ReportBusReadyAsync(app.Services.GetRequiredService<IBusControl>(), app.Lifetime.ApplicationStopping);
        });
        return app;
    }

    /// <summary>
    /// "PdM host up" means HTTP answers; MassTransit starts the bus after that, in the background, and until every
    /// receive endpoint is up a module's queue has no consumer (and, before a first <c>migrate</c>, may not exist: a
    /// message published to an exchange with no queue is confirmed and dropped). The operator, and a script reading the
    /// output, see the moment they are; a bus that takes long says why (its health description: which endpoint is
    /// still starting or faulted), at 30 s, 60 s, 120 s, ...
    /// </summary>
    private static async Task ReportBusReadyAsync(IBusControl bus, CancellationToken stopping)
    {
        var started = Stopwatch.GetTimestamp();
        var nextWarning = TimeSpan.FromSeconds(30);
        try
        {
            while (true)
            {
                var health = bus.CheckHealth();
                var waited = Stopwatch.GetElapsedTime(started);
                if (health.Status == BusHealthStatus.Healthy)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PdM bus ready: every receive endpoint is up ({waited.TotalSeconds:0.0} s after the host)"));
                    return;
                }

                if (waited >= nextWarning)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PdM bus not ready after {waited.TotalSeconds:0} s: {health.Status} {health.Description}"));
                    nextWarning *= 2;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopped before the bus was ready: nothing to report.
        }
    }
}
