using MassTransit;
using Microsoft.Extensions.Options;
using PdM.Hosting;
using PdM.Messaging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace PdM.Host;

/// <summary>
/// <c>PdM.Host redeliver [--queue NAME]...</c>: once an operator has removed the cause, moves the messages parked beside
/// the selected modules' queues (every receive queue of <c>PdM:Modules</c>, or the named ones) back onto them:
/// <c>{queue}_error</c>, where MassTransit puts what a consumer kept failing on past its retries (a PostgreSQL outage
/// longer than <c>Messaging:TransientRetry</c>'s window), and <c>{queue}_dead-letter</c>, where RabbitMQ puts what it
/// stopped redelivering (<c>x-delivery-limit</c>). A message keeps its body, message id and headers, less those its
/// failure added, so a module's inbox still drops one it had already applied. It leaves its parking queue only once
/// RabbitMQ has confirmed it on its queue, and no more messages are moved than were parked at the start, so one that
/// fails again goes back to <c>_error</c> for the operator rather than round in a loop.
/// </summary>
public static class RedeliverCommand
{
    private static readonly string[] ParkingSuffixes = ["_error", RabbitQueueTopology.DeadLetterSuffix];

    /// <summary>Header prefixes a failure adds: MassTransit's fault description and RabbitMQ's dead-lettering history.</summary>
    private static readonly string[] FailureHeaderPrefixes = ["MT-Fault-", "MT-Reason", "x-death", "x-first-death-", "x-last-death-"];

    public static async Task<int> RunAsync(string[] args, TextWriter? output = null)
    {
        output ??= Console.Out;
        var (queues, settings) = SplitQueueArguments(args);
        var builder = WebApplication.CreateBuilder(HostDefaults.Options(settings));
        var options = builder.Configuration.GetSection(MessagingOptions.Section).Get<MessagingOptions>() ?? new MessagingOptions();
        if (options.Transport != MessageTransport.RabbitMq || options.RabbitMq.Uri is null)
        {
            await Console.Error.WriteLineAsync("redeliver: Messaging:Transport is not RabbitMq with a Messaging:RabbitMq:Uri; nothing is parked on an in-memory bus");
            return 2;
        }

        if (queues.Count == 0)
        {
            queues = ModuleQueues(builder);
        }

        try
        {
            await using var connection = await Connect(options.RabbitMq);
            var moved = 0;
            foreach (var queue in queues)
            {
                foreach (var suffix in ParkingSuffixes)
                {
                    var count = await MoveAsync(connection, queue + suffix, queue);
                    if (count > 0)
                    {
                        await output.WriteLineAsync($"redeliver: {queue}{suffix} -> {queue}: {count} message(s)");
                    }

                    moved += count;
                }
            }

            await output.WriteLineAsync($"redeliver: {moved} message(s) moved back from the parking queues of {string.Join(", ", queues)}");
            return 0;
        }
        catch (Exception exception) when (exception is RabbitMQClientException or OperationInterruptedException or IOException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"redeliver: FAILED: {exception.Message}");
            return 1;
        }
    }

    /// <summary><c>--queue NAME</c> pairs are this command's; every other argument is configuration.</summary>
    private static (List<string> Queues, string[] Settings) SplitQueueArguments(string[] args)
    {
        var queues = new List<string>();
        var settings = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--queue" && i + 1 < args.Length)
            {
                queues.Add(args[++i]);
            }
            else
            {
                settings.Add(args[i]);
            }
        }

        return (queues, [.. settings]);
    }

    /// <summary>The receive queues of the selected modules, as their bus names them (its configuration, never started).</summary>
    private static List<string> ModuleQueues(WebApplicationBuilder builder)
    {
        var modules = ModuleCatalog.Select(builder.Configuration);
        builder.AddPdMMessaging(bus =>
        {
            foreach (var module in modules)
            {
                module.AddConsumers(bus);
            }
        }, deployTopologyOnly: true);
        using var app = builder.Build();
        _ = app.Services.GetRequiredService<IBusControl>();
        return [.. app.Services.GetRequiredService<ReceiveQueueNames>().All];
    }

    private static async Task<IConnection> Connect(RabbitMqOptions options)
    {
        var factory = new ConnectionFactory { Uri = options.Uri!, ClientProvidedName = "pdm-redeliver" };
        return await factory.CreateConnectionAsync(RabbitMqEndpoint.Parse(options.Uri!).WithClusterNodes(options.ClusterNodes));
    }

    /// <summary>Moves what <paramref name="parking"/> holds now onto <paramref name="queue"/>; 0 when it does not exist.</summary>
    private static async Task<int> MoveAsync(IConnection connection, string parking, string queue)
    {
        var confirmed = new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);
        uint parked;
        await using (var probe = await connection.CreateChannelAsync())
        {
            try
            {
                parked = (await probe.QueueDeclarePassiveAsync(parking)).MessageCount;
            }
            catch (OperationInterruptedException exception) when (exception.ShutdownReason?.ReplyCode == Constants.NotFound)
            {
                // MassTransit declares an endpoint's _error queue at its first fault: none yet, nothing parked.
                return 0;
            }
        }

        await using var channel = await connection.CreateChannelAsync(confirmed);
        var moved = 0;
        while (moved < parked && await channel.BasicGetAsync(parking, autoAck: false) is { } message)
        {
            var properties = new BasicProperties(message.BasicProperties);
            if (properties.Headers is { } headers)
            {
                properties.Headers = headers.Where(h => !FailureHeaderPrefixes.Any(p => h.Key.StartsWith(p, StringComparison.Ordinal)))
                    .ToDictionary(h => h.Key, h => h.Value);
            }

            // Mandatory and confirmed: the await ends once the queue has it, and fails if nothing took it.
            await channel.BasicPublishAsync(string.Empty, queue, mandatory: true, properties, message.Body.ToArray());
            await channel.BasicAckAsync(message.DeliveryTag, multiple: false);
            moved++;
        }

        return moved;
    }
}
