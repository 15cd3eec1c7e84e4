using System.Globalization;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;

namespace PdM.Benchmarks.Ingest;

/// <summary>The fixed stream every consumer is measured on: PdM JSON snapshots of one asset with K readings each.</summary>
internal static class BenchStream
{
    public const string Site = "bench";
    public const string Asset = "BENCH-1";
    public static readonly string Topic = $"pdm/{Site}/{Asset}/telemetry";

    public static readonly string[] Sensors =
    [
        "vibration_rms_mm_s", "bearing_temperature_c", "motor_current_a", "suction_pressure_bar",
        "discharge_pressure_bar", "flow_m3_h", "speed_rpm", "casing_temp_c",
    ];

    public static byte[] Payload(int sequence, int readings, DateTimeOffset deviceTime)
    {
        var builder = new StringBuilder(64 + (readings * 32));
        builder.Append(CultureInfo.InvariantCulture, $"{{\"schemaVersion\":1,\"asset\":\"{Asset}\",\"deviceTime\":\"{deviceTime:yyyy-MM-ddTHH:mm:ss.fffZ}\",\"readings\":{{");
        for (var i = 0; i < readings; i++)
        {
            var value = 2.0 + ((sequence + i) % 50 / 25.0);
            builder.Append(CultureInfo.InvariantCulture, $"{(i > 0 ? "," : "")}\"{Sensors[i]}\":{value:0.###}");
        }

        builder.Append("}}");
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <summary>Publishes <paramref name="count"/> messages at QoS 1 with up to 500 in flight; returns when all are acknowledged.</summary>
    public static async Task Publish(int port, int count, int readings, double? ratePerSecond = null)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port)
            .WithClientId("bench-publisher-" + Environment.ProcessId).WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
        var inFlight = new List<Task>(500);
        var started = DateTimeOffset.UtcNow;
        for (var i = 0; i < count; i++)
        {
            if (ratePerSecond is { } rate)
            {
                var due = started.AddSeconds(i / rate);
                var wait = due - DateTimeOffset.UtcNow;
                if (wait > TimeSpan.Zero)
                {
                    await Task.WhenAll(inFlight);
                    inFlight.Clear();
                    await Task.Delay(wait);
                }
            }

            var message = new MqttApplicationMessageBuilder().WithTopic(Topic)
                .WithPayload(Payload(i, readings, DateTimeOffset.UtcNow))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
            inFlight.Add(client.PublishAsync(message));
            if (inFlight.Count == 500)
            {
                await Task.WhenAll(inFlight);
                inFlight.Clear();
            }
        }

        await Task.WhenAll(inFlight);
        await client.DisconnectAsync();
    }

    /// <summary>
    /// Deletes a consumer's persistent session (connect with clean start and no expiry, then leave). A session left
    /// behind stays subscribed: every later publish of the stream would also be queued, and persisted, for it, so
    /// each consumer measured after it would pay for its predecessors' copies.
    /// </summary>
    public static async Task ForgetSession(int port, string clientId)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(clientId)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithCleanStart(true).WithSessionExpiryInterval(0).Build());
        await client.DisconnectAsync();
    }
}
