using PdM.Host;
using PdM.Testing;
using RabbitMQ.Client;

namespace PdM.EndToEnd.Tests;

/// <summary>PdM.Host started as an operator starts it, on the real RabbitMQ: what its output promises about the bus.</summary>
public sealed class HostStartupTests
{
    [Fact]
    public async Task The_host_says_its_bus_is_ready_only_once_the_modules_queue_has_its_consumer()
    {
        await using var backend = await ModuleTestBackend.CreateAsync("hoststart");
        string[] settings = [.. backend.HostArguments("Maintenance"), "--Logging:LogLevel:Default=Warning"];
        // migrate also declares the module's queues and bindings, so the queue exists from here on; a consumer is on
        // it only once the host's bus has started its receive endpoint.
        Assert.Equal(0, await MigrateCommand.RunAsync(settings));

        using var host = ChildProcess.Start(
            LocalDependencies.ProgramDll("services", "PdM.Host"), settings, "PdM bus ready");
        await host.WaitReadyAsync();

        var factory = new ConnectionFactory { Uri = backend.RabbitMq };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var queue = await channel.QueueDeclarePassiveAsync("maintenance-failure-predicted");
        Assert.True(queue.ConsumerCount >= 1, $"'PdM bus ready' printed while maintenance-failure-predicted had {queue.ConsumerCount} consumers");

        var lines = host.Output.ToList();
        var up = lines.FindIndex(l => l.StartsWith("PdM host up", StringComparison.Ordinal));
        var ready = lines.FindIndex(l => l.StartsWith("PdM bus ready: every receive endpoint is up", StringComparison.Ordinal));
        Assert.True(up >= 0 && ready > up, "expected 'PdM host up', then 'PdM bus ready', in:\n" + string.Join('\n', lines));
        Assert.DoesNotContain(lines, l => l.StartsWith("PdM bus not ready", StringComparison.Ordinal));
    }
}
