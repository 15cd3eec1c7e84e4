using System.Buffers;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// An MQTT message handed from the receive handler to the pipeline. The payload lives in a pooled buffer the pipeline
/// returns; <see cref="Acknowledge"/> sends the QoS 1 PUBACK once the message's effects are safe.
/// </summary>
public sealed class InboundMessage(string topic, byte[] buffer, int length, DateTimeOffset receivedAt, Ingestion.MqttClientIdentity client, Func<CancellationToken, Task>? acknowledge, int shard = -1)
{
    /// <summary>The shard whose MQTT session delivered it (Gateway:Sharding), or -1 when the site is not sharded.</summary>
    public int Shard { get; } = shard;

    public string Topic { get; } = topic;

    public ReadOnlyMemory<byte> Payload => buffer.AsMemory(0, length);

    public int Length => length;

    public DateTimeOffset ReceivedAt { get; } = receivedAt;

    /// <summary>Who published it, where the broker tells us (MQTT 5 user properties); used by ThingsBoard device topics.</summary>
    public Ingestion.MqttClientIdentity Client { get; } = client;

    /// <summary>
    /// The W3C <c>traceparent</c> a device sent as an MQTT 5 user property (W3C "Trace Context: MQTT"), read only
    /// while something listens for the gateway's spans; null otherwise and for MQTT 3.1.1 messages.
    /// </summary>
    public string? TraceParent { get; init; }

    /// <summary>The <c>tracestate</c> user property sent with <see cref="TraceParent"/>, or null.</summary>
    public string? TraceState { get; init; }

    public Task Acknowledge(CancellationToken cancellationToken) => acknowledge?.Invoke(cancellationToken) ?? Task.CompletedTask;

    /// <summary>Returns the payload buffer to the pool; the message must not be used afterwards.</summary>
    public void Release() => ArrayPool<byte>.Shared.Return(buffer);
}
