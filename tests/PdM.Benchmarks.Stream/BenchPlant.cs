using System.Globalization;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;

namespace PdM.Benchmarks.Stream;

/// <summary>One pump signal of the stream: healthy values spread uniformly over base ± spread.</summary>
public sealed record BenchSensor(string Id, string Unit, double Base, double Spread);

/// <summary>
/// The one stream every benchmark publishes: <see cref="Assets"/> pumps on <c>pdm/bench/{asset}/telemetry</c>, each
/// message a PdM JSON snapshot of all eight <see cref="Sensors"/>. Message i belongs to asset i mod A and is that
/// asset's k-th message (k = i div A), with device time <c>start + k · step</c>: every message of an asset has its own
/// device time, however fast it is published, so a count window of N closes once per N ticks exactly as the spec says.
/// Values are a fixed hash of (asset, k, sensor) inside each sensor's healthy band (no alert ever fires, so no
/// prediction is journaled and every decision is the same amount of work). Deterministic: the same stream every run.
/// </summary>
public sealed class BenchPlant
{
    public const string Site = "bench";

    public const string TopicFilter = "pdm/" + Site + "/+/telemetry";

    public static readonly IReadOnlyList<BenchSensor> Sensors =
    [
        new("vibration_rms_mm_s", "mm/s", 1.0, 0.3),
        new("bearing_temperature_c", "°C", 60, 3),
        new("motor_current_a", "A", 40, 2),
        new("suction_pressure_bar", "bar", 1.5, 0.2),
        new("discharge_pressure_bar", "bar", 6.0, 0.4),
        new("flow_m3_h", "m3/h", 120, 8),
        new("speed_rpm", "r/min", 2950, 15),
        new("casing_temp_c", "°C", 45, 2),
    ];

    private readonly string[] _assetIds;
    private readonly string[] _topics;

    /// <param name="assets">Pumps (≥ 1; the benches use 10).</param>
    /// <param name="messages">Messages in the stream, spread round-robin over the assets.</param>
    /// <param name="startUnixMs">Device time of every asset's first message.</param>
    /// <param name="stepMs">Device time between an asset's messages (10 ms: a 100 Hz snapshot).</param>
    public BenchPlant(int assets, int messages, long startUnixMs, int stepMs = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(assets, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(messages, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stepMs, 1);
        Assets = assets;
        Messages = messages;
        StartUnixMs = startUnixMs;
        StepMs = stepMs;
        _assetIds = new string[assets];
        _topics = new string[assets];
        for (var a = 0; a < assets; a++)
        {
            _assetIds[a] = string.Create(CultureInfo.InvariantCulture, $"BENCH-{a + 1:00}");
            _topics[a] = $"pdm/{Site}/{_assetIds[a]}/telemetry";
        }
    }

    public int Assets { get; }

    public int Messages { get; }

    public long StartUnixMs { get; }

    public int StepMs { get; }

    /// <summary>Every reading of every message is valid and live: the gateway must accept exactly this many.</summary>
    public long ExpectedReadings => (long)Messages * Sensors.Count;

    /// <summary>
    /// A start an hour-aligned hour in the past: device times are in the past (no future-skew rejection) and a stream
    /// shorter than an hour lies inside one hour-long window (the no-decision scenario relies on it).
    /// </summary>
    public static long DefaultStart(DateTimeOffset now) => ((now.ToUnixTimeMilliseconds() / 3_600_000) - 1) * 3_600_000;

    public string AssetId(int asset) => _assetIds[asset];

    public string Topic(int asset) => _topics[asset];

    /// <summary>Messages of one asset in the stream.</summary>
    public int MessagesOf(int asset) => (Messages / Assets) + (asset < Messages % Assets ? 1 : 0);

    public long DeviceTime(int asset, int k) => StartUnixMs + ((long)k * StepMs);

    /// <summary>The healthy value of a sensor in an asset's k-th message.</summary>
    public static double Value(int asset, int k, int sensor)
    {
        // SplitMix64 of the coordinates: uniform in [-1, 1), independent of publish order.
        var z = ((ulong)(uint)asset << 40) ^ ((ulong)(uint)k << 8) ^ (uint)sensor;
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        var u = ((z >> 11) * (1.0 / (1UL << 53) * 2)) - 1;
        var s = Sensors[sensor];
        return Math.Round(s.Base + (s.Spread * u), 3);
    }

    /// <summary>The i-th message's payload (asset i mod A, its (i div A)-th message).</summary>
    public byte[] Payload(int i)
    {
        var asset = i % Assets;
        var k = i / Assets;
        var builder = new StringBuilder(320);
        var deviceTime = DateTimeOffset.FromUnixTimeMilliseconds(DeviceTime(asset, k));
        builder.Append(CultureInfo.InvariantCulture, $"{{\"schemaVersion\":1,\"asset\":\"{_assetIds[asset]}\",\"deviceTime\":\"{deviceTime:yyyy-MM-ddTHH:mm:ss.fffZ}\",\"readings\":{{");
        for (var s = 0; s < Sensors.Count; s++)
        {
            builder.Append(CultureInfo.InvariantCulture, $"{(s > 0 ? "," : "")}\"{Sensors[s].Id}\":{Value(asset, k, s):0.###}");
        }

        builder.Append("}}");
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <summary>
    /// Publishes the stream at QoS 1 over one connection (per-asset order kept), up to 500 in flight; paced at
    /// <paramref name="ratePerSecond"/> when given. Returns the achieved rate once every message is acknowledged.
    /// </summary>
    public async Task<double> PublishAsync(int port, double? ratePerSecond = null)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port)
            .WithClientId("bench-publisher-" + Environment.ProcessId).WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build()).ConfigureAwait(false);
        var inFlight = new List<Task>(500);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var i = 0; i < Messages; i++)
        {
            if (ratePerSecond is { } rate)
            {
                // Paced in steps of a millisecond's worth: a due message waits for its time, earlier ones are in flight.
                var wait = (i / rate) - System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
                if (wait > 0.001)
                {
                    await Task.Delay(TimeSpan.FromSeconds(wait)).ConfigureAwait(false);
                }
            }

            var message = new MqttApplicationMessageBuilder().WithTopic(_topics[i % Assets]).WithPayload(Payload(i))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
            inFlight.Add(client.PublishAsync(message));
            if (inFlight.Count == 500)
            {
                await Task.WhenAll(inFlight).ConfigureAwait(false);
                inFlight.Clear();
            }
        }

        await Task.WhenAll(inFlight).ConfigureAwait(false);
        var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        await client.DisconnectAsync().ConfigureAwait(false);
        return Messages / seconds;
    }

    /// <summary>
    /// Publishes the stream live at <paramref name="ratePerSecond"/> through one native <c>mosquitto_pub -l -q 1</c>
    /// per asset topic (an asset's messages keep their order on its own connection), the harness writing each message
    /// as a line to its asset's publisher when it is due. Returns the rate achieved, to the last publisher's exit (each
    /// leaves once its last message is acknowledged). Used for the latency run: the .NET publisher costs about 40 µs of
    /// CPU per QoS 1 message and, sharing this machine's two cores with the broker and the gateway, tops out near
    /// 15,000 msg/s, below half the gateway's drained rate; <c>mosquitto_pub</c> costs about 10 µs.
    /// </summary>
    public async Task<double> PublishLiveWithMosquittoPubAsync(int port, double ratePerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        var lines = new byte[Messages][];
        for (var i = 0; i < Messages; i++)
        {
            var payload = Payload(i);
            lines[i] = new byte[payload.Length + 1];
            payload.CopyTo(lines[i], 0);
            lines[i][^1] = (byte)'\n';
        }

        var publishers = new System.Diagnostics.Process[Assets];
        for (var a = 0; a < Assets; a++)
        {
            var start = new System.Diagnostics.ProcessStartInfo("mosquitto_pub") { RedirectStandardInput = true, UseShellExecute = false };
            foreach (var argument in new[] { "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-V", "mqttv5", "-q", "1", "-i", $"bench-pub-{Environment.ProcessId}-{a}", "-t", _topics[a], "-l" })
            {
                start.ArgumentList.Add(argument);
            }

            publishers[a] = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("cannot start mosquitto_pub");
        }

        var inputs = publishers.Select(p => p.StandardInput.BaseStream).ToArray();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var i = 0; i < Messages; i++)
        {
            // Paced in steps of a millisecond's worth: what is due is written, then the pipes are flushed and we wait.
            var wait = (i / ratePerSecond) - System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (wait > 0.001)
            {
                foreach (var input in inputs)
                {
                    await input.FlushAsync().ConfigureAwait(false);
                }

                await Task.Delay(TimeSpan.FromSeconds(wait)).ConfigureAwait(false);
            }

            await inputs[i % Assets].WriteAsync(lines[i]).ConfigureAwait(false);
        }

        foreach (var publisher in publishers)
        {
            publisher.StandardInput.Close();
        }

        foreach (var publisher in publishers)
        {
            await publisher.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2)).ConfigureAwait(false);
            if (publisher.ExitCode != 0)
            {
                throw new InvalidOperationException($"mosquitto_pub exited with {publisher.ExitCode}");
            }
        }

        return Messages / System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>
    /// Deletes a consumer's persistent session (connect with clean start and no expiry, then leave). A session left
    /// behind stays subscribed: every later publish of the stream would also be queued, and persisted, for it, so
    /// each consumer measured after it would pay for its predecessors' copies.
    /// </summary>
    public static async Task ForgetSessionAsync(int port, string clientId)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(clientId)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithCleanStart(true).WithSessionExpiryInterval(0).Build()).ConfigureAwait(false);
        await client.DisconnectAsync().ConfigureAwait(false);
    }

    /// <summary>The gateway's asset model for the stream (one line per setting): every asset of <paramref name="assetClass"/>, all eight sensors.</summary>
    public IEnumerable<string> AssetModelSettings(string assetClass)
    {
        for (var a = 0; a < Assets; a++)
        {
            yield return $"--AssetModel:Assets:{a}:Id={_assetIds[a]}";
            yield return $"--AssetModel:Assets:{a}:AssetClass={assetClass}";
            for (var s = 0; s < Sensors.Count; s++)
            {
                yield return $"--AssetModel:Assets:{a}:Sensors:{s}:Id={Sensors[s].Id}";
                yield return $"--AssetModel:Assets:{a}:Sensors:{s}:Unit={Sensors[s].Unit}";
                yield return $"--AssetModel:Assets:{a}:Sensors:{s}:ValidMin=-1000";
                yield return $"--AssetModel:Assets:{a}:Sensors:{s}:ValidMax=100000";
            }
        }
    }
}
