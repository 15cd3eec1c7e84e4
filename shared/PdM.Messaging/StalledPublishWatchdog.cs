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

    /// <param name="stalledFor">
    /// <see cref="StalledFor"/>; null for <see cref="DefaultStalledFor"/> (the host passes
    /// <c>Messaging:StalledPublishRestartAfter</c>).
    /// </param>
    public StalledPublishWatchdog(IBusControl bus, IMeterFactory meters, TimeProvider clock, ILogger<StalledPublishWatchdog> logger, TimeSpan? stalledFor = null)
    {
        ArgumentNullException.ThrowIfNull(meters);
        if (stalledFor is { } configured && configured <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(stalledFor), configured, "a stall lasts a positive time");
        }

        StalledFor = stalledFor ?? DefaultStalledFor;
        _restartInterval = StalledFor;
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
            await RestartAsync(cancellationToken);
            return true;
        }
        finally
        {
            _restarting.Release();
        }
    }

    private async Task RestartAsync(CancellationToken cancellationToken)
    {
        try
        {
            using (var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                stopping.CancelAfter(StopTimeout);
                await _bus.StopAsync(stopping.Token);
            }

            using var starting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            starting.CancelAfter(StartTimeout);
            await _bus.StartAsync(starting.Token);
            _restartFailed = false;
            LogRestarted(_logger);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The publisher still holds its messages; its next stalled spell tries again, however the bus reports itself.
            _restartFailed = true;
            LogRestartFailed(_logger, exception);
        }
    }

    public void Dispose()
    {
        _meter.Dispose();
        _restarting.Dispose();
    }

    [LoggerMessage(EventId = 9401, Level = LogLevel.Warning,
        Message = "Bus: {Publisher}'s publishes have kept failing for {Seconds:0} s on a connected bus (a broker channel refusing them); restarting the bus for new channels")]
    private static partial void LogRestarting(ILogger logger, string publisher, double seconds);

    [LoggerMessage(EventId = 9402, Level = LogLevel.Information, Message = "Bus: restarted")]
    private static partial void LogRestarted(ILogger logger);

    [LoggerMessage(EventId = 9403, Level = LogLevel.Error, Message = "Bus: the restart failed; the publishers keep their messages and retry")]
    private static partial void LogRestartFailed(ILogger logger, Exception exception);
}
