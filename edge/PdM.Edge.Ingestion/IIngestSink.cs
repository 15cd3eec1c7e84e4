using PdM.Contracts.Edge;
using PdM.Edge.Ingestion.Sparkplug;

namespace PdM.Edge.Ingestion;

/// <summary>
/// Where <see cref="TelemetryIngestor"/> delivers the outcome of one message. Called synchronously from
/// <see cref="TelemetryIngestor.Ingest(string, System.Buffers.ReadOnlySequence{byte}, DateTimeOffset, IIngestSink, MqttClientIdentity)"/>;
/// an implementation hands things on (e.g. to a bounded channel) and does no I/O.
/// Readings are delivered only for a message that parsed completely: a truncated payload never yields half its readings.
/// </summary>
public interface IIngestSink
{
    void OnReading(in Reading reading);

    /// <summary>A whole message, or one reading/part of an otherwise accepted message, was rejected (already counted).</summary>
    void OnRejected(in Rejection rejection);

    /// <summary>A rate-limited sample to publish on <see cref="DeadLetterSample.Topic"/> (QoS 0 is enough: it is a sample).</summary>
    void OnDeadLetter(DeadLetterSample sample);

    /// <summary>Publish <see cref="SparkplugCommand.Payload"/> on <see cref="SparkplugCommand.Topic"/> (QoS 0, not retained, per Sparkplug).</summary>
    void OnSparkplugCommand(SparkplugCommand command);

    /// <summary>An asset's Sparkplug source died (NDEATH/DDEATH); publish it on the bus.</summary>
    void OnAssetOffline(AssetWentOffline offline);
}

/// <summary>A sink that keeps everything in lists: for tests, tools and simple callers; not for the hot path.</summary>
public sealed class CollectingIngestSink : IIngestSink
{
    public List<Reading> Readings { get; } = [];

    public List<Rejection> Rejections { get; } = [];

    public List<DeadLetterSample> DeadLetters { get; } = [];

    public List<SparkplugCommand> Commands { get; } = [];

    public List<AssetWentOffline> Offline { get; } = [];

    public void OnReading(in Reading reading) => Readings.Add(reading);

    public void OnRejected(in Rejection rejection) => Rejections.Add(rejection);

    public void OnDeadLetter(DeadLetterSample sample) => DeadLetters.Add(sample);

    public void OnSparkplugCommand(SparkplugCommand command) => Commands.Add(command);

    public void OnAssetOffline(AssetWentOffline offline) => Offline.Add(offline);

    public void Clear()
    {
        Readings.Clear();
        Rejections.Clear();
        DeadLetters.Clear();
        Commands.Clear();
        Offline.Clear();
    }
}

/// <summary>The MQTT session a message came in on; ThingsBoard's device API identifies the device only this way.</summary>
public readonly record struct MqttClientIdentity(string? ClientId, string? Username);

public enum IngestStatus
{
    /// <summary>The message was understood; <see cref="IngestResult.AcceptedReadings"/> readings went to the sink (possibly none, e.g. a death certificate).</summary>
    Accepted = 0,

    /// <summary>The whole message was rejected for <see cref="IngestResult.Reason"/>; no reading from it went to the sink.</summary>
    Rejected = 1,
}

public enum MessageFormat
{
    Unknown = 0,
    PdmJson,
    ThingsBoardDevice,
    ThingsBoardGateway,
    AzureIotHub,
    SparkplugB,
    SparkplugState,
}

/// <summary>The account of one message: accepted with N readings (and M rejected readings/parts), or rejected with a reason.</summary>
public readonly record struct IngestResult(
    IngestStatus Status,
    MessageFormat Format,
    RejectReason Reason,
    int AcceptedReadings,
    int RejectedReadings)
{
    public bool IsAccepted => Status == IngestStatus.Accepted;
}
