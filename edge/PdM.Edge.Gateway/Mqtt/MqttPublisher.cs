using System.Buffers;
using MQTTnet;
using MQTTnet.Protocol;

namespace PdM.Edge.Gateway.Mqtt;

/// <summary>
/// Publishes from the pipeline on the ingest connection (dead-letter samples, Sparkplug commands, host STATE). When
/// the connection is down the publish is skipped and reported as false: a sample or a rebirth request is not worth
/// blocking the pipeline for (Sparkplug asks again on the next gap).
/// </summary>
public sealed class MqttPublisher
{
    private volatile IMqttClient? _client;

    internal void Attach(IMqttClient client) => _client = client;

    internal void Detach() => _client = null;

    public async Task<bool> TryPublish(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfServiceLevel qos, CancellationToken cancellationToken, bool retain = false)
    {
        var client = _client;
        if (client is not { IsConnected: true })
        {
            return false;
        }

        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(new ReadOnlySequence<byte>(payload))
            .WithQualityOfServiceLevel(qos)
            .WithRetainFlag(retain)
            .Build();
        try
        {
            var result = await client.PublishAsync(message, cancellationToken);
            return result.IsSuccess;
        }
        catch (MQTTnet.Exceptions.MqttCommunicationException)
        {
            return false;
        }
    }
}
