using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace PdM.Messaging;

/// <summary>
/// Asks the broker, on a connection of its own, whether a brand-new channel can publish at all: what a bus restart would
/// give the publisher that stalled. A channel refusing one queue's publishes (the fault <see cref="StalledPublishWatchdog"/>
/// restarts for) leaves new channels confirmed at once. A RabbitMQ resource alarm (memory or disk) blocks every
/// publishing connection, this probe's too: a restart then cannot help and did harm (the stop cannot cancel the
/// consumers on the blocked connection, the start cannot open their channels, and the host's receive endpoints stayed
/// down after the alarm). The probe publishes two empty, non-mandatory messages to the default exchange under a routing
/// key no queue has (RabbitMQ confirms and drops them) and watches for <c>connection.blocked</c>.
/// </summary>
public sealed class BrokerPublishProbe(RabbitMqEndpoint endpoint, IReadOnlyList<string> clusterNodes)
{
    /// <summary>How long a confirm may take before publishing counts as blocked.</summary>
    public static readonly TimeSpan ConfirmTimeout = TimeSpan.FromSeconds(5);

    private const string RoutingKey = "pdm.bus-probe.unrouted";

    /// <summary>True when a new channel's publish is confirmed within <see cref="ConfirmTimeout"/>, false when it is not.</summary>
    public async Task<bool> NewChannelCanPublishAsync(CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var factory = new ConnectionFactory
        {
            HostName = endpoint.Host,
            Port = endpoint.Port,
            VirtualHost = endpoint.VirtualHost,
            UserName = endpoint.Username,
            Password = endpoint.Password,
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            RequestedConnectionTimeout = ConfirmTimeout,
            ClientProvidedName = "pdm-bus-probe",
        };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(ConfirmTimeout);
        IConnection? connection = null;
        try
        {
            connection = await factory.CreateConnectionAsync(endpoint.WithClusterNodes(clusterNodes), deadline.Token);
            await using var channel = await connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), deadline.Token);
            var blocked = false;
            connection.ConnectionBlockedAsync += (_, _) =>
            {
                blocked = true;
                return Task.CompletedTask;
            };

            // Twice: during an alarm RabbitMQ still takes the publish that blocks the connection (and confirms it), then
            // sends connection.blocked and reads nothing more from it, so the second is never confirmed.
            for (var i = 0; i < 2 && !blocked; i++)
            {
                await channel.BasicPublishAsync(string.Empty, RoutingKey, mandatory: false, new BasicProperties(), ReadOnlyMemory<byte>.Empty, deadline.Token)
                    .AsTask().WaitAsync(ConfirmTimeout, cancellationToken);
            }

            return !blocked;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested
                                          && exception is OperationCanceledException or TimeoutException or BrokerUnreachableException or OperationInterruptedException
                                              or PublishException or AlreadyClosedException or System.Net.Sockets.SocketException)
        {
            return false;
        }
        finally
        {
            if (connection is not null)
            {
                // A blocked connection may not answer a close: abort it, bounded.
                try
                {
                    await connection.AbortAsync(TimeSpan.FromSeconds(1)).WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None);
                }
                catch (Exception exception) when (exception is TimeoutException or OperationInterruptedException or AlreadyClosedException or System.IO.IOException)
                {
                    // Gone already, or it does not answer: the socket is closed when the connection is disposed.
                }

                await connection.DisposeAsync();
            }
        }
    }
}
