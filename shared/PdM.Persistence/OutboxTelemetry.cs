using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace PdM.Persistence;

/// <summary>Meter <c>PdM.Outbox</c>: every module's outbox, told apart by the <c>outbox</c> tag (the module's schema).</summary>
public sealed class OutboxTelemetry : IDisposable
{
    public const string MeterName = "PdM.Outbox";

    private readonly Meter _meter = new(MeterName);
    private readonly ConcurrentDictionary<string, OutboxDepth> _depth = new(StringComparer.Ordinal);

    /// <summary>Spans of outbox deliveries, each continuing the trace its row was written in.</summary>
    public static System.Diagnostics.ActivitySource ActivitySource { get; } = new(MeterName);

    public OutboxTelemetry()
    {
        Delivered = _meter.CreateCounter<long>("pdm.outbox.delivered", description: "Outbox rows delivered (published to the bus or handed to a module's handler), by outbox and type.");
        Failures = _meter.CreateCounter<long>("pdm.outbox.failures", description: "Delivery attempts that failed and are retried with backoff, by outbox and type.");
        Parked = _meter.CreateCounter<long>("pdm.outbox.parked", description: "Rows given up on because retrying cannot help (no route, unreadable payload), by outbox and type.");
        _meter.CreateObservableGauge("pdm.outbox.pending", ObservePending, "{row}",
            "Rows waiting for delivery, by outbox (as the lease holder's last round saw them).");
        _meter.CreateObservableGauge("pdm.outbox.oldest_age", ObserveOldestAge, "s",
            "Age of the oldest row waiting for delivery, by outbox; 0 when none waits.");
    }

    public Counter<long> Delivered { get; }

    public Counter<long> Failures { get; }

    public Counter<long> Parked { get; }

    /// <summary>
    /// What a dispatcher's round saw (only the replica holding the outbox's lease reports, so replicas never add up).
    /// The age is computed at scrape time, so it keeps growing while a stuck dispatcher reports nothing new.
    /// </summary>
    public void Depth(string outbox, long pending, DateTimeOffset? oldestCreatedAt) => _depth[outbox] = new OutboxDepth(pending, oldestCreatedAt);

    /// <summary>This replica lost (or never held) the outbox's lease: another one reports it.</summary>
    public void ForgetDepth(string outbox) => _depth.TryRemove(outbox, out _);

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> ObservePending()
    {
        foreach (var (outbox, depth) in _depth)
        {
            yield return new Measurement<long>(depth.Pending, new KeyValuePair<string, object?>("outbox", outbox));
        }
    }

    private IEnumerable<Measurement<double>> ObserveOldestAge()
    {
        var now = TimeProvider.System.GetUtcNow();
        foreach (var (outbox, depth) in _depth)
        {
            var age = depth.Oldest is { } oldest ? Math.Max(0, (now - oldest).TotalSeconds) : 0;
            yield return new Measurement<double>(age, new KeyValuePair<string, object?>("outbox", outbox));
        }
    }

    private sealed record OutboxDepth(long Pending, DateTimeOffset? Oldest);
}
