using System.Diagnostics.Metrics;

namespace PdM.Persistence;

/// <summary>Meter <c>PdM.Outbox</c>: every module's outbox, told apart by the <c>outbox</c> tag (the module's schema).</summary>
public sealed class OutboxTelemetry : IDisposable
{
    public const string MeterName = "PdM.Outbox";

    private readonly Meter _meter = new(MeterName);

    /// <summary>Spans of outbox deliveries, each continuing the trace its row was written in.</summary>
    public static System.Diagnostics.ActivitySource ActivitySource { get; } = new(MeterName);

    public OutboxTelemetry()
    {
        Delivered = _meter.CreateCounter<long>("pdm.outbox.delivered", description: "Outbox rows delivered (published to the bus or handed to a module's handler), by outbox and type.");
        Failures = _meter.CreateCounter<long>("pdm.outbox.failures", description: "Delivery attempts that failed and are retried with backoff, by outbox and type.");
        Parked = _meter.CreateCounter<long>("pdm.outbox.parked", description: "Rows given up on because retrying cannot help (no route, unreadable payload), by outbox and type.");
    }

    public Counter<long> Delivered { get; }

    public Counter<long> Failures { get; }

    public Counter<long> Parked { get; }

    public void Dispose() => _meter.Dispose();
}
