using System.Diagnostics;
using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace PdM.Messaging;

/// <summary>
/// Restarts the bus when a publisher's publishes keep failing although the bus is connected: a broker channel can refuse
/// every publish to one queue for good while the connection stays up, and only a new channel gets past it. The
/// publishers (the gateway's uplink, each module's outbox) report every outcome under their own name; one that keeps
/// failing for <see cref="StalledFor"/> (<c>Messaging:StalledPublishRestartAfter</c>, 30 s by default) restarts the bus,
/// however well the others fare on other queues.
/// <para>
/// Seen on RabbitMQ 3.10 (Debian's) with quorum queues: when a node dies, MassTransit reconnects to a surviving node at
/// once, and a channel opened there before a queue that was led by the dead node has elected a new leader keeps
/// rejecting every publish routed to that queue, still after the election (a new channel is confirmed at once;
/// rabbitmq-server PR 9241 changed where a channel looks for the leader, in 3.11 and 3.12). Publisher confirms keep
/// the messages safe with their publisher (journal, outbox), but nothing would ever deliver them. Restarting the bus
/// opens a new connection and new channels (MassTransit 8 supports a restart and drops its cached send transports).
/// </para>
/// <para>
/// An outage is not a stall: with the bus not connected, MassTransit is reconnecting by itself and a restart would only
/// interrupt it, so a publisher's clock starts again whenever the bus reports itself unhealthy.
/// </para>
/// <para>
/// A restart that does not help (the same publisher stalls again without having delivered anything: say a queue an
/// operator's policy capped with <c>reject-publish</c>, full) is not repeated every 30 s, which would stop every
/// consumer of the host each time: the wait before the next one doubles, up to <see cref="MaxRestartInterval"/>, and
/// is back to <see cref="StalledFor"/> once that publisher delivers.
/// </para>
/// </summary>
public sealed partial class StalledPublishWatchdog : IDisposable
{
    public const string MeterName = "PdM.Messaging";

    /// <summary>
    /// The default of <see cref="StalledFor"/>: long enough for a quorum queue's election and a consumer's restart to end
    /// on their own (seconds), short enough for a prediction to reach its work order within the minute.
    /// </summary>
    public static readonly TimeSpan DefaultStalledFor = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait between two restarts that do not help.</summary>
    public static readonly TimeSpan MaxRestartInterval = TimeSpan.FromMinutes(15);

    // A stop waits for the host's consumers to finish: bounded, or a stuck one would hold the publisher that asked.
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan EndpointPoll = TimeSpan.FromMilliseconds(250);

    private readonly IBusControl _bus;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Meter _meter;
    private readonly Counter<long> _restarts;
    private readonly Dictionary<string, DateTimeOffset> _failingSince = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _restarting = new(1, 1);
    private DateTimeOffset _lastRestart = DateTimeOffset.MinValue;
    private TimeSpan _restartInterval;
    private string? _lastRestartedFor;
    private volatile bool _restartFailed;
    private readonly CancellationTokenSource _disposing = new();
    private Task? _recovery;
    private readonly Func<CancellationToken, Task<bool>>? _newChannelCanPublish;

    /// <param name="stalledFor">
    /// <see cref="StalledFor"/>; null for <see cref="DefaultStalledFor"/> (the host passes
    /// <c>Messaging:StalledPublishRestartAfter</c>).
    /// </param>
    /// <param name="newChannelCanPublish">
    /// Asked before each restart (<see cref="BrokerPublishProbe"/> on RabbitMQ): false while the broker blocks every
    /// publisher (a resource alarm), when a restart cannot help; null restarts without asking (the in-memory bus).
    /// </param>
    public StalledPublishWatchdog(IBusControl bus, IMeterFactory meters, TimeProvider clock, ILogger<StalledPublishWatchdog> logger, TimeSpan? stalledFor = null,
        Func<CancellationToken, Task<bool>>? newChannelCanPublish = null)
    {
        ArgumentNullException.ThrowIfNull(meters);
        if (stalledFor is { } configured && configured <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(stalledFor), configured, "a stall lasts a positive time");
        }

        StalledFor = stalledFor ?? DefaultStalledFor;
        _restartInterval = StalledFor;
        _newChannelCanPublish = newChannelCanPublish;
        _bus = bus;
        _clock = clock;
        _logger = logger;
        _meter = meters.Create(MeterName);
        _restarts = _meter.CreateCounter<long>("pdm.bus.restarts",
            description: "Bus restarts because a publisher's publishes kept failing on a connected bus (a broker channel refusing them), by publisher.");
    }

    /// <summary>
    /// How long a publisher's publishes must keep failing on a connected bus before the bus is restarted, and the least
    /// time between two restarts.
    /// </summary>
    public TimeSpan StalledFor { get; }

    /// <summary>
    /// Names a publisher before its first report, so <c>pdm.bus.restarts</c> has its series at 0 from the start: an alert
    /// or a dashboard sees "no restart yet" rather than "no such metric".
    /// </summary>
    public void Register(string publisher) => _restarts.Add(0, new KeyValuePair<string, object?>("publisher", publisher));

    /// <summary>What <paramref name="publisher"/> sent went through: whatever stalled it before has cleared.</summary>
    public void Delivered(string publisher)
    {
        lock (_gate)
        {
            _failingSince.Remove(publisher);
            if (publisher == _lastRestartedFor)
            {
                // The last restart helped the publisher that asked for it.
                _lastRestartedFor = null;
                _restartInterval = StalledFor;
            }
        }
    }

    /// <summary>
    /// Publishes <paramref name="publisher"/> sent at <paramref name="sentAt"/> failed. Restarts the bus when its publishes
    /// have kept failing for <see cref="StalledFor"/> on a bus that reports itself connected; returns whether it did.
    /// </summary>
    public async Task<bool> FailedAsync(string publisher, DateTimeOffset sentAt, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        TimeSpan stalled;
        lock (_gate)
        {
            // A bus that is not connected reconnects by itself (a restart would interrupt it), unless it is down because
            // our own restart failed to start it again: then nothing but the next restart brings it back.
            if (!_restartFailed && _bus.CheckHealth().Status != BusHealthStatus.Healthy)
            {
                _failingSince.Remove(publisher);
                return false;
            }

            if (!_failingSince.TryGetValue(publisher, out var since))
            {
                _failingSince[publisher] = since = sentAt;
            }

            stalled = now - since;
            if (stalled < StalledFor || now - _lastRestart < _restartInterval)
            {
                return false;
            }
        }

        // One restart at a time; another publisher asking meanwhile gets the same new channels.
        if (!await _restarting.WaitAsync(TimeSpan.Zero, cancellationToken))
        {
            return false;
        }

        try
        {
            if (!await NewChannelCanPublishAsync(cancellationToken))
            {
                // Blocked broker-wide: the publisher keeps its messages and waits like in an outage; asked again at its
                // next failure, the restart happens once new channels can publish and this one still cannot.
                LogBlocked(_logger, publisher, stalled.TotalSeconds);
                return false;
            }

            lock (_gate)
            {
                // The next restart waits twice as long, unless this publisher delivers first (Delivered resets it).
                _restartInterval = TimeSpan.FromTicks(Math.Min(_restartInterval.Ticks * 2, MaxRestartInterval.Ticks));
                _lastRestartedFor = publisher;
                _lastRestart = now;
                _failingSince.Clear();
            }

            LogRestarting(_logger, publisher, stalled.TotalSeconds);
            _restarts.Add(1, new KeyValuePair<string, object?>("publisher", publisher));
            if (!await RestartAsync(cancellationToken))
            {
                StartRecovery(publisher);
            }

            return true;
        }
        finally
        {
            _restarting.Release();
        }
    }

    private async Task<bool> NewChannelCanPublishAsync(CancellationToken cancellationToken) =>
        _newChannelCanPublish is null || await _newChannelCanPublish(cancellationToken);

    /// <summary>Stops and starts the bus, each bounded; true once its receive endpoints are up again.</summary>
    private async Task<bool> RestartAsync(CancellationToken cancellationToken)
    {
        try
        {
            // MassTransit does not always honour the token: during a RabbitMQ resource alarm the connection is blocked and
            // a start waits on it past any cancellation (seen in ServerFaultTests' memory alarm), which held the publisher
            // that asked (an outbox, the uplink) for good. WaitAsync gives the publisher back when the time is up.
            using (var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                stopping.CancelAfter(StopTimeout);
                await _bus.StopAsync(stopping.Token).WaitAsync(StopTimeout, cancellationToken);
            }

            using var starting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            starting.CancelAfter(StartTimeout);
            await _bus.StartAsync(starting.Token).WaitAsync(StartTimeout, cancellationToken);

            // A start can return with receive endpoints that never come up: during a RabbitMQ resource alarm the
            // connection is blocked, the stop cannot cancel the consumers and the start cannot open their channels, and
            // they stayed down after the alarm (no consumer on the module's queue, ServerFaultTests' memory alarm).
            // Publishes then go through again, so no stalled spell would ever ask for the restart that brings them back.
            var deadline = Stopwatch.GetTimestamp() + (long)(StartTimeout.TotalSeconds * Stopwatch.Frequency);
            while (_bus.CheckHealth().Status != BusHealthStatus.Healthy)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    _restartFailed = true;
                    LogRestartLeftEndpointsDown(_logger, _bus.CheckHealth().Description);
                    return false;
                }

                await Task.Delay(EndpointPoll, cancellationToken);
            }

            _restartFailed = false;
            LogRestarted(_logger);
            return true;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The publisher still holds its messages; its next stalled spell tries again, however the bus reports itself.
            _restartFailed = true;
            LogRestartFailed(_logger, exception);
            return false;
        }
    }

    /// <summary>
    /// After a restart that left the bus unhealthy: restarts it again, at the restart interval (doubling, at most
    /// <see cref="MaxRestartInterval"/>), until its endpoints are up; once the alarm that blocked the connection is
    /// gone, the next restart brings the consumers back. One such loop at a time, ended by a healthy bus or disposal.
    /// </summary>
    private void StartRecovery(string publisher)
    {
        lock (_gate)
        {
            if (_recovery is { IsCompleted: false })
            {
                return;
            }

            _recovery = Task.Run(() => RecoverAsync(publisher, _disposing.Token));
        }
    }

    private async Task RecoverAsync(string publisher, CancellationToken cancellationToken)
    {
        var wait = StalledFor;
        try
        {
            while (true)
            {
                await Task.Delay(wait, cancellationToken);
                if (_bus.CheckHealth().Status == BusHealthStatus.Healthy)
                {
                    _restartFailed = false;
                    return;
                }

                if (!await NewChannelCanPublishAsync(cancellationToken) || !await _restarting.WaitAsync(TimeSpan.Zero, cancellationToken))
                {
                    continue;
                }

                try
                {
                    LogRestartingToRecover(_logger, publisher);
                    _restarts.Add(1, new KeyValuePair<string, object?>("publisher", publisher));
                    if (await RestartAsync(cancellationToken))
                    {
                        return;
                    }
                }
                finally
                {
                    _restarting.Release();
                }

                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, MaxRestartInterval.Ticks));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed: the host is stopping.
        }
    }

    public void Dispose()
    {
        _disposing.Cancel();
        _disposing.Dispose();
        _meter.Dispose();
        _restarting.Dispose();
    }

    [LoggerMessage(EventId = 9401, Level = LogLevel.Warning,
        Message = "Bus: {Publisher}'s publishes have kept failing for {Seconds:0} s on a connected bus (a broker channel refusing them); restarting the bus for new channels")]
    private static partial void LogRestarting(ILogger logger, string publisher, double seconds);

    [LoggerMessage(EventId = 9406, Level = LogLevel.Warning,
        Message = "Bus: {Publisher}'s publishes have kept failing for {Seconds:0} s, but a new channel cannot publish either (the broker blocks publishers: a memory or disk alarm?); not restarting, the messages wait")]
    private static partial void LogBlocked(ILogger logger, string publisher, double seconds);

    [LoggerMessage(EventId = 9404, Level = LogLevel.Error,
        Message = "Bus: restarted, but its receive endpoints did not come up ({Health}); restarting it again until they do")]
    private static partial void LogRestartLeftEndpointsDown(ILogger logger, string health);

    [LoggerMessage(EventId = 9405, Level = LogLevel.Warning, Message = "Bus: restarting again (for {Publisher}) to bring its receive endpoints back")]
    private static partial void LogRestartingToRecover(ILogger logger, string publisher);

    [LoggerMessage(EventId = 9402, Level = LogLevel.Information, Message = "Bus: restarted")]
    private static partial void LogRestarted(ILogger logger);

    [LoggerMessage(EventId = 9403, Level = LogLevel.Error, Message = "Bus: the restart failed; the publishers keep their messages and retry")]
    private static partial void LogRestartFailed(ILogger logger, Exception exception);
}
