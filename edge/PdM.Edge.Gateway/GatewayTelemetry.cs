using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PdM.Edge.Gateway;

/// <summary>The gateway's meter and activity source. Counters are tagged with a reason so a dashboard can say why.</summary>
public sealed class GatewayTelemetry : IDisposable
{
    public const string Name = "PdM.Edge.Gateway";

    private readonly Meter _meter;

    public GatewayTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(Name);
        MessagesReceived = _meter.CreateCounter<long>("pdm.ingest.messages", description: "MQTT messages received.");
        ReadingsAccepted = _meter.CreateCounter<long>("pdm.ingest.accepted", description: "Readings accepted into the pipeline.");
        Rejected = _meter.CreateCounter<long>("pdm.ingest.rejected", description: "Messages or readings rejected, by reason.");
        BackpressureEvents = _meter.CreateCounter<long>("pdm.ingest.backpressure", description: "Times the receive handler found the pipeline full, by policy.");
        Decisions = _meter.CreateCounter<long>("pdm.decisions", description: "Decisions that raised a prediction, by path.");
        Connections = _meter.CreateCounter<long>("pdm.mqtt.connections", description: "MQTT (re)connections, by outcome.");
    }

    public static ActivitySource ActivitySource { get; } = new(Name);

    public Counter<long> MessagesReceived { get; }

    public Counter<long> ReadingsAccepted { get; }

    public Counter<long> Rejected { get; }

    public Counter<long> BackpressureEvents { get; }

    public Counter<long> Decisions { get; }

    public Counter<long> Connections { get; }

    public void Reject(string reason) => Rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();
}
