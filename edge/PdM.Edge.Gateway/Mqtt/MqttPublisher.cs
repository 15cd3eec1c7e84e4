using MQTTnet;
using MQTTnet.Protocol;

namespace PdM.Edge.Gateway.Mqtt;

/// <summary>
/// Publishes from the pipeline on the ingest connection (dead-letter samples, later Sparkplug commands). When the
/// connection is down the publish is skipped and reported as false: a dead-letter sample is not worth blocking for.
/// </summary>
public sealed class MqttPublisher
{
    private volatile IMqttClient? _client;

    internal void Attach(IMqttClient client) => _client = client;

    internal void Detach() => _client = null;

    public async Task<bool> TryPublish(string topic, ReadOnlyMemory<byte> payload, bool retain, CancellationToken cancellationToken)
    {
        var client = _client;
        if (client is not { IsConnected: true })
        {
            return false;
        }

        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload.ToArray())
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(retain)
            .Build();
        var result = await client.PublishAsync(message, cancellationToken);
        return result.IsSuccess;
    }
}
