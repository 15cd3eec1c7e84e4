using MassTransit;

namespace PdM.Edge.Gateway.Uplink;

/// <summary>
/// Restarts the bus when the uplink's publishes keep failing although the bus is connected: a broker channel can refuse
/// every publish to one queue for good while the connection stays up, and only a new channel gets past it.
/// <para>
/// Seen on RabbitMQ 3.10 (Debian's) with quorum queues: when a node dies, MassTransit reconnects to a surviving node at
/// once, and a channel opened there before a queue that was led by the dead node has elected a new leader keeps
/// rejecting every publish routed to that queue, still after the election (a new channel is confirmed at once;
/// rabbitmq-server PR 9241 changed where a channel looks for the leader, in 3.11 and 3.12). Publisher confirms keep
/// the events safe in the journal, but nothing would ever deliver them. Restarting the bus opens a new connection and
/// new channels (MassTransit 8 supports a restart and drops its cached send transports).
/// </para>
/// <para>
/// An outage is not a stall: with the bus not connected, MassTransit is reconnecting by itself and a restart would only
/// interrupt it, so the clock starts again whenever the bus reports itself unhealthy.
/// </para>
/// </summary>
public sealed partial class StalledChannelWatchdog(IBusControl bus, GatewayTelemetry telemetry, TimeProvider clock, ILogger<StalledChannelWatchdog> logger)
{
    /// <summary>
    /// How long publishes must keep failing on a connected bus before the bus is restarted, and the least time between
    /// two restarts. Long enough for a quorum queue's election and a consumer's restart to end on their own (seconds),
    /// short enough for a prediction to reach its work order within the minute.
    /// </summary>
    public static readonly TimeSpan StalledFor = TimeSpan.FromSeconds(30);

    // A stop waits for the gateway's consumers (model deployments) to finish: bounded, or a stuck one would hold the uplink.
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private DateTimeOffset? _failingSince;
    private DateTimeOffset _lastRestart = DateTimeOffset.MinValue;

    /// <summary>A batch went through with no failure: whatever stalled before has cleared.</summary>
    public void Delivered() => _failingSince = null;

    /// <summary>
    /// A batch sent at <paramref name="sentAt"/> had publishes that failed. Restarts the bus when they have kept failing
    /// for <see cref="StalledFor"/> on a bus that reports itself connected; returns whether it did.
    /// </summary>
    public async Task<bool> FailedAsync(DateTimeOffset sentAt, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var health = bus.CheckHealth();
        if (health.Status != BusHealthStatus.Healthy)
        {
            _failingSince = null;
            return false;
        }

        _failingSince ??= sentAt;
        var stalled = now - _failingSince.Value;
        if (stalled < StalledFor || now - _lastRestart < StalledFor)
        {
            return false;
        }

        LogRestarting(logger, stalled.TotalSeconds);
        _lastRestart = now;
        _failingSince = null;
        telemetry.UplinkBusRestarts.Add(1);
        try
        {
            using (var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                stopping.CancelAfter(StopTimeout);
                await bus.StopAsync(stopping.Token);
            }

            using var starting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            starting.CancelAfter(StartTimeout);
            await bus.StartAsync(starting.Token);
            LogRestarted(logger);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The journal still holds everything; the next stalled spell tries again.
            LogRestartFailed(logger, exception);
        }

        return true;
    }

    [LoggerMessage(EventId = 1504, Level = LogLevel.Warning,
        Message = "Uplink: publishes have kept failing for {Seconds:0} s on a connected bus (a broker channel refusing them); restarting the bus for new channels")]
    private static partial void LogRestarting(ILogger logger, double seconds);

    [LoggerMessage(EventId = 1505, Level = LogLevel.Information, Message = "Uplink: bus restarted")]
    private static partial void LogRestarted(ILogger logger);

    [LoggerMessage(EventId = 1506, Level = LogLevel.Error, Message = "Uplink: the bus restart failed; events stay in the journal and the uplink keeps retrying")]
    private static partial void LogRestartFailed(ILogger logger, Exception exception);
}
