using MQTTnet;
using MQTTnet.Formatter;
using PdM.Testing;

namespace PdM.EndToEnd.Tests;

/// <summary>A device of an end-to-end test: a plain MQTT client on the local Mosquitto, as a plant's sensor gateway connects.</summary>
internal static class MqttDevice
{
    /// <summary>A connected client named <paramref name="clientId"/> speaking <paramref name="version"/> (MQTT 5 unless a test needs 3.1.1).</summary>
    public static async Task<IMqttClient> ConnectAsync(string clientId, MqttProtocolVersion version = MqttProtocolVersion.V500)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer(LocalDependencies.MqttHost, LocalDependencies.MqttPort)
            .WithClientId(clientId)
            .WithProtocolVersion(version)
            .Build());
        return client;
    }
}
