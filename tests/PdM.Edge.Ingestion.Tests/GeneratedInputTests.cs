using System.Buffers;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using PdM.Contracts.Edge;
using PdM.Edge.Ingestion.Sparkplug;
using Metric = PdM.Edge.Ingestion.Sparkplug.Payload.Types.Metric;

namespace PdM.Edge.Ingestion.Tests;

/// <summary>
/// Seeded random and mutated payloads in every format: nothing may throw, and every message must be accounted
/// for exactly once — accepted with exactly the readings the sink received, or rejected whole with a reason.
/// </summary>
public sealed class GeneratedInputTests
{
    private const int Total = 12_000;
    private const string JsonNoise = "{}[]\",:-0123456789eE.ntfu\\";

    private static readonly string[] s_jsonTopics =
    [
        "pdm/plant-a/PUMP-101/telemetry", "pdm/plant-a/MOTOR-7/telemetry", "pdm/plant-a/PUMP-404/telemetry",
        "v1/devices/me/telemetry", "v1/gateway/telemetry", "devices/pump-101-hub/messages/events/",
        "devices/MOTOR-7/messages/events/$.ct=application%2Fjson", "pdm/plant-b/PUMP-101/telemetry", "random/topic",
    ];

    private static readonly string[] s_sparkplugTopics =
    [
        "spBv1.0/plant-a/NBIRTH/edge-3", "spBv1.0/plant-a/NDATA/edge-3", "spBv1.0/plant-a/NDEATH/edge-3",
        "spBv1.0/plant-a/DBIRTH/edge-3/pump101", "spBv1.0/plant-a/DDATA/edge-3/pump101", "spBv1.0/plant-a/DDEATH/edge-3/pump101",
        "spBv1.0/plant-a/DBIRTH/edge-3/MOTOR-7", "spBv1.0/plant-a/DDATA/edge-3/MOTOR-7", "spBv1.0/plant-a/NCMD/edge-3",
        "spBv1.0/plant-a/NBIRTH/PUMP-101", "spBv1.0/plant-a/NDATA/PUMP-101", "spBv1.0/STATE/host-2", "spBv1.0/plant-a/XDATA/edge-3",
    ];

    private static readonly string[] s_keys =
    [
        "schemaVersion", "asset", "deviceTime", "readings", "batch", "ts", "values", "vibration_rms_mm_s", "bearing_temp_c",
        "motor_current_a", "winding_temp_c", "Pump 101", "MOTOR-7", "running", "x", "bdSeq", "",
    ];

    private static readonly string[] s_metricNames =
    [
        "bdSeq", "Vibration/RMS", "bearing_temp_c", "motor_current_a", "winding_temp_c", "Node Control/Rebirth", "Status", "speed_rpm",
    ];

    [Fact]
    public void Random_and_mutated_payloads_never_throw_and_are_each_accounted_for_once()
    {
        var rng = new Random(20261125);
        var options = TestSite.Options();
        options.MaxPayloadBytes = 4096;
        using var telemetry = new IngestionTelemetry();
        long counterAccepted = 0, counterRejected = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, telemetry.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "pdm.ingest.accepted")
            {
                counterAccepted += value;
            }
            else if (instrument.Name == "pdm.ingest.rejected")
            {
                counterRejected += value;
            }
        });
        listener.Start();
        var ingestor = TestSite.Ingestor(out var time, options, telemetry);
        var sink = new CountingSink();
        var seeds = Seeds();
        var identities = new[] { new MqttClientIdentity("c1", "A1_TEST_TOKEN"), new MqttClientIdentity("MOTOR-7", null), default };
        int accepted = 0, rejected = 0, acceptedReadings = 0;
        var reasons = new HashSet<RejectReason>();

        for (var i = 0; i < Total; i++)
        {
            var (topic, payload) = Generate(rng, seeds);
            time.Advance(TimeSpan.FromMilliseconds(7));
            var readingsBefore = sink.Readings;
            var rejectionsBefore = sink.Rejections;
            var wholeBefore = sink.WholeMessageRejections;

            var result = ingestor.Ingest(topic, new ReadOnlySequence<byte>(payload), time.GetUtcNow(), sink, identities[i % identities.Length]);

            if (result.Status == IngestStatus.Accepted)
            {
                accepted++;
                acceptedReadings += result.AcceptedReadings;
                Assert.Equal(RejectReason.None, result.Reason);
                Assert.Equal(result.AcceptedReadings, sink.Readings - readingsBefore);
                Assert.Equal(result.RejectedReadings, sink.Rejections - rejectionsBefore);
                Assert.Equal(wholeBefore, sink.WholeMessageRejections);
            }
            else
            {
                rejected++;
                reasons.Add(result.Reason);
                Assert.NotEqual(RejectReason.None, result.Reason);
                Assert.Equal(readingsBefore, sink.Readings);
                Assert.Equal(rejectionsBefore + 1, sink.Rejections);
                Assert.Equal(wholeBefore + 1, sink.WholeMessageRejections);
                Assert.Equal(result.Reason, sink.LastReason);
            }
        }

        Assert.Equal(Total, accepted + rejected);
        Assert.Equal(acceptedReadings, sink.Readings);
        Assert.Equal(sink.Readings, counterAccepted);
        Assert.Equal(sink.Rejections, counterRejected);
        Assert.Equal(0, sink.InvalidReadings);
        // The generator must reach deep into every path, not just bounce off the first check.
        Assert.True(accepted > 1000, $"accepted {accepted}");
        Assert.True(acceptedReadings > 500, $"readings {acceptedReadings}");
        Assert.Superset(
            new HashSet<RejectReason> { RejectReason.Malformed, RejectReason.TooDeep, RejectReason.PayloadTooLarge, RejectReason.UnknownTopic, RejectReason.UnknownAsset, RejectReason.AssetMismatch, RejectReason.UnsupportedSchemaVersion, RejectReason.SequenceGap, RejectReason.NotBorn },
            reasons);
    }

    private static List<(string Topic, byte[] Payload)> Seeds()
    {
        var seeds = new List<(string, byte[])>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures"), "*", SearchOption.AllDirectories))
        {
            var name = file.Replace('\\', '/');
            var bytes = File.ReadAllBytes(file);
            if (name.Contains("/pdm/", StringComparison.Ordinal))
            {
                seeds.Add(("pdm/plant-a/PUMP-101/telemetry", bytes));
            }
            else if (name.Contains("/thingsboard/gateway", StringComparison.Ordinal))
            {
                seeds.Add(("v1/gateway/telemetry", bytes));
            }
            else if (name.Contains("/thingsboard/", StringComparison.Ordinal))
            {
                seeds.Add(("v1/devices/me/telemetry", bytes));
            }
            else if (name.Contains("/azure/", StringComparison.Ordinal))
            {
                seeds.Add(("devices/pump-101-hub/messages/events/", bytes));
            }
            else if (name.EndsWith(".bin", StringComparison.Ordinal))
            {
                var type = Path.GetFileNameWithoutExtension(file).Split('-')[0].ToUpperInvariant();
                seeds.Add((type.StartsWith('D') ? $"spBv1.0/plant-a/{type}/edge-3/pump101" : $"spBv1.0/plant-a/{type}/edge-3", bytes));
            }
        }

        return seeds;
    }

    private static (string Topic, byte[] Payload) Generate(Random rng, List<(string Topic, byte[] Payload)> seeds)
    {
        switch (rng.Next(10))
        {
            case 0 or 1:
            {
                var (topic, payload) = seeds[rng.Next(seeds.Count)];
                return (rng.Next(8) == 0 ? Pick(rng, s_jsonTopics) : topic, Mutate(rng, payload));
            }

            case 2:
            {
                var (topic, payload) = seeds[rng.Next(seeds.Count)];
                return (topic, payload);
            }

            case 3:
            {
                var bytes = new byte[rng.Next(0, rng.Next(10) == 0 ? 6000 : 200)];
                rng.NextBytes(bytes);
                return (rng.Next(2) == 0 ? Pick(rng, s_jsonTopics) : Pick(rng, s_sparkplugTopics), bytes);
            }

            case 4 or 5 or 6:
            {
                var json = RandomJson(rng);
                var bytes = Encoding.UTF8.GetBytes(json);
                return (Pick(rng, s_jsonTopics), rng.Next(6) == 0 ? Mutate(rng, bytes) : bytes);
            }

            default:
            {
                var bytes = RandomSparkplug(rng).ToByteArray();
                return (Pick(rng, s_sparkplugTopics), rng.Next(8) == 0 ? Mutate(rng, bytes) : bytes);
            }
        }
    }

    private static string Pick(Random rng, string[] values) => values[rng.Next(values.Length)];

    private static byte[] Mutate(Random rng, byte[] source)
    {
        var bytes = new List<byte>(source);
        var edits = rng.Next(1, 4);
        for (var e = 0; e < edits; e++)
        {
            switch (rng.Next(5))
            {
                case 0 when bytes.Count > 0:
                    var at = rng.Next(bytes.Count);
                    bytes[at] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes = bytes.GetRange(0, rng.Next(bytes.Count));
                    break;
                case 2:
                    bytes.Insert(rng.Next(bytes.Count + 1), (byte)JsonNoise[rng.Next(JsonNoise.Length)]);
                    break;
                case 3 when bytes.Count > 2:
                    var start = rng.Next(bytes.Count - 1);
                    var length = rng.Next(1, Math.Min(64, bytes.Count - start));
                    bytes.InsertRange(rng.Next(bytes.Count), bytes.GetRange(start, length));
                    break;
                default:
                    bytes.Add((byte)rng.Next(256));
                    break;
            }
        }

        return [.. bytes];
    }

    private static string RandomJson(Random rng)
    {
        var builder = new StringBuilder();
        switch (rng.Next(6))
        {
            case 0:
                // A plausible PdM message: valid most of the time, so the accepting path is exercised too.
                builder.Append("{\"schemaVersion\":").Append(rng.Next(8) == 0 ? "2" : "1");
                if (rng.Next(3) == 0)
                {
                    builder.Append(",\"asset\":\"").Append(rng.Next(4) == 0 ? "PUMP-999" : "PUMP-101").Append('"');
                }

                builder.Append(",\"deviceTime\":\"").Append(Time(rng)).Append("\",\"readings\":");
                AppendReadings(rng, builder);
                builder.Append('}');
                break;
            case 1:
                builder.Append("{\"schemaVersion\":1,\"batch\":[");
                var count = rng.Next(0, 5);
                for (var i = 0; i < count; i++)
                {
                    builder.Append(i > 0 ? "," : string.Empty).Append("{\"deviceTime\":\"").Append(Time(rng)).Append("\",\"readings\":");
                    AppendReadings(rng, builder);
                    builder.Append('}');
                }

                builder.Append("]}");
                break;
            case 2:
                builder.Append("{\"Pump 101\":[{\"ts\":").Append((TestSite.DeviceTimeMs + rng.Next(-5000, 5000)).ToString(CultureInfo.InvariantCulture)).Append(",\"values\":");
                AppendReadings(rng, builder);
                builder.Append("}],\"MOTOR-7\":{\"values\":{\"winding_temp_c\":").Append(Number(rng)).Append("}}}");
                break;
            case 3:
                AppendReadings(rng, builder);
                break;
            default:
                AppendValue(rng, builder, rng.Next(1, 14));
                break;
        }

        return builder.ToString();
    }

    private static void AppendReadings(Random rng, StringBuilder builder)
    {
        builder.Append('{');
        var count = rng.Next(0, 6);
        for (var i = 0; i < count; i++)
        {
            builder.Append(i > 0 ? "," : string.Empty).Append('"').Append(Pick(rng, s_keys)).Append("\":");
            if (rng.Next(6) == 0)
            {
                AppendValue(rng, builder, 3);
            }
            else
            {
                builder.Append(Number(rng));
            }
        }

        builder.Append('}');
    }

    private static void AppendValue(Random rng, StringBuilder builder, int depth)
    {
        switch (depth <= 0 ? rng.Next(5) : rng.Next(7))
        {
            case 0:
                builder.Append(Number(rng));
                break;
            case 1:
                builder.Append(Pick(rng, ["\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"3.1\"", "\"\\u0041\""]));
                break;
            case 2:
                builder.Append(Pick(rng, ["true", "false", "null"]));
                break;
            case 3:
                builder.Append('"').Append(Time(rng)).Append('"');
                break;
            case 4:
                builder.Append(Number(rng));
                break;
            case 5:
                builder.Append('[');
                var items = rng.Next(0, 3);
                for (var i = 0; i < items; i++)
                {
                    builder.Append(i > 0 ? "," : string.Empty);
                    AppendValue(rng, builder, depth - 1);
                }

                builder.Append(']');
                break;
            default:
                builder.Append('{');
                var props = rng.Next(0, 4);
                for (var i = 0; i < props; i++)
                {
                    builder.Append(i > 0 ? "," : string.Empty).Append('"').Append(Pick(rng, s_keys)).Append("\":");
                    AppendValue(rng, builder, depth - 1);
                }

                builder.Append('}');
                break;
        }
    }

    private static string Number(Random rng) => rng.Next(12) switch
    {
        0 => "1e400",
        1 => "-1e400",
        2 => "123456789012345678901234567890",
        3 => (rng.NextDouble() * 1000 - 500).ToString("R", CultureInfo.InvariantCulture),
        _ => (rng.NextDouble() * 90).ToString("0.###", CultureInfo.InvariantCulture),
    };

    private static string Time(Random rng) => rng.Next(10) switch
    {
        0 => "2026-11-25T08:00:00",
        1 => "not a time",
        2 => "2026-11-20T08:00:00Z",
        _ => TestSite.ReceivedAt.AddSeconds(-rng.Next(0, 30)).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
    };

    private static Payload RandomSparkplug(Random rng)
    {
        var payload = new Payload();
        if (rng.Next(6) != 0)
        {
            payload.Seq = (ulong)(rng.Next(10) == 0 ? rng.Next(300) : rng.Next(4));
        }

        if (rng.Next(3) != 0)
        {
            payload.Timestamp = (ulong)(TestSite.DeviceTimeMs + rng.Next(-3000, 3000));
        }

        var metrics = rng.Next(0, 6);
        for (var i = 0; i < metrics; i++)
        {
            var metric = new Metric();
            if (rng.Next(4) != 0)
            {
                metric.Name = Pick(rng, s_metricNames);
            }

            if (rng.Next(2) == 0)
            {
                metric.Alias = (ulong)rng.Next(8, 16);
            }

            if (rng.Next(3) != 0)
            {
                metric.Datatype = (uint)rng.Next(0, 35);
            }

            if (rng.Next(8) == 0)
            {
                metric.IsHistorical = true;
            }

            if (rng.Next(10) == 0)
            {
                metric.IsNull = true;
            }

            if (rng.Next(4) == 0)
            {
                metric.Timestamp = (ulong)(TestSite.DeviceTimeMs + rng.Next(-100_000, 100_000));
            }

            switch (rng.Next(7))
            {
                case 0:
                    metric.IntValue = (uint)rng.Next();
                    break;
                case 1:
                    metric.LongValue = (ulong)rng.NextInt64();
                    break;
                case 2:
                    metric.FloatValue = (float)(rng.NextDouble() * 100);
                    break;
                case 3:
                    metric.DoubleValue = rng.Next(20) == 0 ? double.NaN : rng.NextDouble() * 100;
                    break;
                case 4:
                    metric.BooleanValue = rng.Next(2) == 0;
                    break;
                case 5:
                    metric.StringValue = "RUNNING";
                    break;
                default:
                    metric.BytesValue = ByteString.CopyFrom(1, 2, 3);
                    break;
            }

            payload.Metrics.Add(metric);
        }

        return payload;
    }

    private sealed class CountingSink : IIngestSink
    {
        public int Readings { get; private set; }

        public int Rejections { get; private set; }

        public int WholeMessageRejections { get; private set; }

        public int InvalidReadings { get; private set; }

        public RejectReason LastReason { get; private set; }

        public void OnReading(in Reading reading)
        {
            Readings++;
            if (!double.IsFinite(reading.Value) || reading.SiteId != TestSite.SiteId)
            {
                InvalidReadings++;
            }
        }

        public void OnRejected(in Rejection rejection)
        {
            Rejections++;
            LastReason = rejection.Reason;
            if (rejection.WholeMessage)
            {
                WholeMessageRejections++;
            }
        }

        public void OnDeadLetter(DeadLetterSample sample) => Assert.Equal("pdm/plant-a/_deadletter", sample.Topic);

        public void OnSparkplugCommand(SparkplugCommand command) => Assert.StartsWith("spBv1.0/plant-a/NCMD/", command.Topic, StringComparison.Ordinal);

        public void OnAssetOffline(AssetWentOffline offline) => Assert.Equal(TestSite.SiteId, offline.SiteId);
    }
}
