using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdM.ServiceDefaults;

namespace PdM.Testing;

/// <summary>
/// One cloud module on a real web host for its tests, composed from its <see cref="PdMModule"/> descriptor exactly as
/// PdM.Host composes it: services, consumers on the one bus, endpoints, migrations applied before start. Listens on a
/// free loopback port; <see cref="Api"/> points at it.
/// </summary>
public sealed class ModuleTestHost : IAsyncDisposable
{
    private ModuleTestHost(WebApplication app, HttpClient api)
    {
        App = app;
        Api = api;
    }

    public WebApplication App { get; }

    public HttpClient Api { get; }

    public IServiceProvider Services => App.Services;

    public IBus Bus => App.Services.GetRequiredService<IBus>();

    /// <param name="environment">Host environment; null keeps the framework's default (from ASPNETCORE_ENVIRONMENT, else Production).</param>
    /// <param name="configure">Extra registrations (test collectors, fakes of nothing but the test's own probes).</param>
    /// <param name="consumers">Extra consumers on the same bus, e.g. an event collector.</param>
    public static async Task<ModuleTestHost> StartAsync(
        PdMModule module,
        IEnumerable<KeyValuePair<string, string?>> settings,
        ILoggerProvider logs,
        string? environment = null,
        Action<WebApplicationBuilder>? configure = null,
        Action<IBusRegistrationConfigurator>? consumers = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        var builder = environment is null
            ? WebApplication.CreateBuilder()
            : WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        configure?.Invoke(builder);
        module.AddServices(builder);
        builder.AddPdMMessaging(bus =>
        {
            module.AddConsumers(bus);
            consumers?.Invoke(bus);
        });

        // Start returns once the receive endpoints are bound: a test's first publish must not go to an exchange with no queue.
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        var app = builder.Build();
        module.MapEndpoints(app);

        if (module.DbContextType is { } contextType)
        {
            await using var scope = app.Services.CreateAsyncScope();
            await ((DbContext)scope.ServiceProvider.GetRequiredService(contextType)).Database.MigrateAsync();
        }

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ModuleTestHost(app, new HttpClient { BaseAddress = new Uri(address) });
    }

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
