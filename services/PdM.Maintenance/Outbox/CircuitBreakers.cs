using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Maintenance.Policy;

namespace PdM.Maintenance.Outbox;

public enum BreakerState
{
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}

/// <summary>A snapshot of one adapter endpoint's breaker, for the API and logs.</summary>
public sealed record BreakerSnapshot(string Endpoint, BreakerState State, int ConsecutiveFailures, DateTimeOffset? OpenUntil, string? LastError);

/// <summary>
/// A circuit breaker per CMMS endpoint: opens after N consecutive failures, lets one trial through after the cool-down
/// (half-open), closes on its success and re-opens on its failure. An authentication failure opens it at once for a longer
/// cool-down, so a wrong key costs one request rather than a storm (and no locked integration account).
/// </summary>
public sealed partial class CircuitBreakers
{
    private readonly ConcurrentDictionary<string, Breaker> _breakers = new(StringComparer.Ordinal);
    private readonly IOptions<MaintenanceOptions> options;
    private readonly TimeProvider clock;
    private readonly MaintenanceTelemetry telemetry;
    private readonly ILogger<CircuitBreakers> logger;

    public CircuitBreakers(IOptions<MaintenanceOptions> options, TimeProvider clock, MaintenanceTelemetry telemetry, ILogger<CircuitBreakers> logger)
    {
        this.options = options;
        this.clock = clock;
        this.telemetry = telemetry;
        this.logger = logger;
        telemetry.ObserveBreakers(Snapshot);
    }

    public IReadOnlyList<BreakerSnapshot> Snapshot()
    {
        var list = new List<BreakerSnapshot>();
        foreach (var (key, breaker) in _breakers)
        {
            lock (breaker)
            {
                list.Add(new BreakerSnapshot(key, breaker.State, breaker.Failures, breaker.State == BreakerState.Closed ? null : breaker.OpenUntil, breaker.LastError));
            }
        }

        return list;
    }

    /// <summary>Why deliveries to <paramref name="endpoint"/> are held back, for the work orders waiting behind its breaker.</summary>
    public string HeldBackReason(string endpoint)
    {
        if (!_breakers.TryGetValue(endpoint, out var breaker))
        {
            return $"Waiting: the {endpoint} circuit breaker is open.";
        }

        lock (breaker)
        {
            return $"Waiting: the {endpoint} circuit breaker is open until {breaker.OpenUntil:yyyy-MM-dd HH:mm:ss}Z. Last error: {breaker.LastError}";
        }
    }

    /// <summary>Whether a request to <paramref name="endpoint"/> may go now; in half-open state only one trial at a time.</summary>
    public bool TryAcquire(string endpoint)
    {
        var breaker = _breakers.GetOrAdd(endpoint, _ => new Breaker());
        lock (breaker)
        {
            switch (breaker.State)
            {
                case BreakerState.Closed:
                    return true;
                case BreakerState.Open when clock.GetUtcNow() >= breaker.OpenUntil:
                    breaker.State = BreakerState.HalfOpen;
                    breaker.TrialInFlight = true;
                    LogHalfOpen(logger, endpoint);
                    return true;
                case BreakerState.HalfOpen when !breaker.TrialInFlight:
                    breaker.TrialInFlight = true;
                    return true;
                default:
                    return false;
            }
        }
    }

    public void Success(string endpoint)
    {
        var breaker = _breakers.GetOrAdd(endpoint, _ => new Breaker());
        lock (breaker)
        {
            if (breaker.State != BreakerState.Closed)
            {
                LogClosed(logger, endpoint);
                telemetry.BreakerTransitions.Add(1, new KeyValuePair<string, object?>("state", "closed"));
            }

            breaker.State = BreakerState.Closed;
            breaker.Failures = 0;
            breaker.TrialInFlight = false;
            breaker.LastError = null;
        }
    }

    /// <summary>A response that says nothing about the endpoint's health (429): frees a half-open trial slot only.</summary>
    public void Release(string endpoint)
    {
        if (_breakers.TryGetValue(endpoint, out var breaker))
        {
            lock (breaker)
            {
                breaker.TrialInFlight = false;
            }
        }
    }

    public void Failure(string endpoint, string error)
    {
        var breaker = _breakers.GetOrAdd(endpoint, _ => new Breaker());
        lock (breaker)
        {
            breaker.Failures++;
            breaker.LastError = error;
            breaker.TrialInFlight = false;
            if (breaker.State == BreakerState.HalfOpen || breaker.Failures >= options.Value.Delivery.BreakerFailureThreshold)
            {
                Open(endpoint, breaker, options.Value.Delivery.BreakerCooldown, error);
            }
        }
    }

    /// <summary>Opens at once (authentication failure) for <see cref="DeliveryOptions.AuthFailureCooldown"/>.</summary>
    public void Trip(string endpoint, string error)
    {
        var breaker = _breakers.GetOrAdd(endpoint, _ => new Breaker());
        lock (breaker)
        {
            breaker.Failures++;
            breaker.LastError = error;
            breaker.TrialInFlight = false;
            Open(endpoint, breaker, options.Value.Delivery.AuthFailureCooldown, error);
        }
    }

    private void Open(string endpoint, Breaker breaker, TimeSpan cooldown, string error)
    {
        breaker.State = BreakerState.Open;
        breaker.OpenUntil = clock.GetUtcNow() + cooldown;
        telemetry.BreakerTransitions.Add(1, new KeyValuePair<string, object?>("state", "open"));
        LogOpened(logger, endpoint, breaker.Failures, cooldown, error);
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning,
        Message = "CMMS breaker for {Endpoint} opened after {Failures} failure(s); next trial in {Cooldown}. Last error: {Error}")]
    private static partial void LogOpened(ILogger logger, string endpoint, int failures, TimeSpan cooldown, string error);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "CMMS breaker for {Endpoint} half-open: sending one trial request")]
    private static partial void LogHalfOpen(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "CMMS breaker for {Endpoint} closed: the endpoint answers again")]
    private static partial void LogClosed(ILogger logger, string endpoint);

    private sealed class Breaker
    {
        public BreakerState State { get; set; }

        public int Failures { get; set; }

        public DateTimeOffset OpenUntil { get; set; }

        public bool TrialInFlight { get; set; }

        public string? LastError { get; set; }
    }
}
