using MassTransit;
using Microsoft.EntityFrameworkCore;
using PdM.Hosting;
using PdM.Messaging;

namespace PdM.Host;

/// <summary>
/// <c>PdM.Host migrate</c>: applies the EF Core migrations of the selected modules, reports each, and exits.
/// Migrations never run implicitly on a request path or at service start. On RabbitMQ it also declares every selected
/// module's queues and their bindings: RabbitMQ confirms and drops a message published to an exchange no queue is
/// bound to, so on a first start, where each module is its own process, whatever one module published before the
/// consuming module had started once would be lost. After <c>migrate</c> the queues are there and keep what arrives.
/// </summary>
public static class MigrateCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(HostDefaults.Options(args));
        // EF logs the probe of a missing history table as an error on a fresh database; our own line reports failures.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database", LogLevel.None);
        var modules = ModuleCatalog.Select(builder.Configuration);
        foreach (var module in modules)
        {
            module.AddServices(builder);
        }

        var transport = builder.Configuration.GetSection(MessagingOptions.Section).Get<MessagingOptions>()?.Transport ?? MessageTransport.InMemory;
        var deployTopology = transport == MessageTransport.RabbitMq;
        if (deployTopology)
        {
            builder.AddPdMMessaging(bus =>
            {
                foreach (var module in modules)
                {
                    module.AddConsumers(bus);
                }
            }, deployTopologyOnly: true);
        }

        await using var app = builder.Build();
        var exitCode = 0;
        foreach (var module in modules.Where(m => m.DbContextType is not null))
        {
            await using var scope = app.Services.CreateAsyncScope();
            var db = (DbContext)scope.ServiceProvider.GetRequiredService(module.DbContextType!);
            try
            {
                var pending = (await db.Database.GetPendingMigrationsAsync()).ToList();
                await db.Database.MigrateAsync();
                await Console.Out.WriteLineAsync($"migrate: {module.Name}: {(pending.Count == 0 ? "up to date" : "applied " + string.Join(", ", pending))}");
            }
            catch (Exception exception) when (exception is Npgsql.NpgsqlException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"migrate: {module.Name}: FAILED: {exception.Message}");
                exitCode = 1;
            }
        }

        if (deployTopology && exitCode == 0)
        {
            exitCode = await DeployBusTopologyAsync(app.Services.GetRequiredService<IBusControl>(), modules);
        }

        return exitCode;
    }

    private static async Task<int> DeployBusTopologyAsync(IBusControl bus, IReadOnlyList<PdMModule> modules)
    {
        var names = string.Join(", ", modules.Select(m => m.Name));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await bus.DeployAsync(timeout.Token);
            await Console.Out.WriteLineAsync($"migrate: bus: declared the queues and bindings of {names}");
            return 0;
        }
        catch (Exception exception) when (exception is OperationCanceledException or MassTransitException or RabbitMQ.Client.Exceptions.RabbitMQClientException)
        {
            await Console.Error.WriteLineAsync($"migrate: bus: FAILED to declare the queues of {names}: {exception.Message}");
            return 1;
        }
    }
}
