using System.Buffers;
using System.Diagnostics.Metrics;
using System.Text.Json;
using PdM.Edge.Ingestion.Model;

namespace PdM.Edge.Ingestion.Tests;

public sealed class TelemetryIngestorTests
{
    private const string Topic = "pdm/plant-a/PUMP-101/telemetry";

    [Fact]
    public void Accepted_readings_and_rejections_by_reason_are_counted_on_the_ingestion_meter()
    {
        using var telemetry = new IngestionTelemetry();
        var measurements = new List<(string Instrument, long Value, string? Tag)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, telemetry.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? tag = null;
            foreach (var t in tags)
            {
                tag = t.Value as string;
            }

            measurements.Add((instrument.Name, value, tag));
        });
        listener.Start();
        var ingestor = TestSite.Ingestor(out _, telemetry: telemetry);
        var sink = new CollectingIngestSink();

        ingestor.Ingest(Topic, TestSite.Fixture("pdm/single.json"), sink);
        ingestor.Ingest(Topic, TestSite.Fixture("pdm/huge-number.json"), sink);
        ingestor.Ingest(Topic, TestSite.Fixture("pdm/spoofed-asset.json"), sink);

        Assert.Equal("PdM.Edge.Ingestion", IngestionTelemetry.MeterName);
        Assert.Equal(3, measurements.Where(m => m.Instrument == "pdm.ingest.accepted").Sum(m => m.Value));
        Assert.Equal(2, measurements.Count(m => m.Instrument == "pdm.ingest.rejected" && m.Tag == "not_finite"));
        Assert.Equal(1, measurements.Count(m => m.Instrument == "pdm.ingest.rejected" && m.Tag == "asset_mismatch"));
    }

    [Fact]
    public void Dead_letter_samples_are_rate_limited_per_reason_per_second()
    {
        var options = TestSite.Options();
        options.DeadLetterSamplesPerReasonPerSecond = 2;
        var ingestor = TestSite.Ingestor(out var time, options);
        var sink = new CollectingIngestSink();
        var truncated = TestSite.Fixture("pdm/truncated.json");

        for (var i = 0; i < 500; i++)
        {
            ingestor.Ingest(Topic, truncated, sink);
        }

        ingestor.Ingest(Topic, TestSite.Fixture("pdm/spoofed-asset.json"), sink);
        time.Advance(TimeSpan.FromSeconds(1));
        ingestor.Ingest(Topic, truncated, sink);

        Assert.Equal(501, sink.Rejections.Count(r => r.Reason == RejectReason.Malformed));
        Assert.Equal(3, sink.DeadLetters.Count(d => d.Reason == RejectReason.Malformed));
        Assert.Equal(1, sink.DeadLetters.Count(d => d.Reason == RejectReason.AssetMismatch));
    }

    [Fact]
    public void A_dead_letter_sample_names_reason_topic_time_and_quotes_the_payload()
    {
        var options = TestSite.Options();
        options.DeadLetterExcerptBytes = 40;
        var ingestor = TestSite.Ingestor(out _, options);
        var sink = new CollectingIngestSink();

        ingestor.Ingest(Topic, TestSite.Fixture("pdm/spoofed-asset.json"), sink);
        ingestor.Ingest("spBv1.0/plant-a/NDEATH/edge-9", [0x0A, 0xFF, 0x00, 0x01], sink);

        var json = sink.DeadLetters[0];
        Assert.Equal("pdm/plant-a/_deadletter", json.Topic);
        using var doc = JsonDocument.Parse(json.Payload);
        var root = doc.RootElement;
        Assert.Equal("asset_mismatch", root.GetProperty("reason").GetString());
        Assert.Equal(Topic, root.GetProperty("topic").GetString());
        Assert.Equal(TestSite.ReceivedAt, root.GetProperty("receivedAt").GetDateTimeOffset());
        Assert.StartsWith("{\"schemaVersion\":1,\"asset\":\"PUMP-999\"", root.GetProperty("payloadUtf8").GetString(), StringComparison.Ordinal);
        Assert.True(root.GetProperty("truncated").GetBoolean());

        using var binary = JsonDocument.Parse(sink.DeadLetters[1].Payload);
        Assert.Equal([0x0A, 0xFF, 0x00, 0x01], binary.RootElement.GetProperty("payloadBase64").GetBytesFromBase64());
    }

    [Fact]
    public void Messages_on_the_dead_letter_topic_are_never_dead_lettered_again()
    {
        var ingestor = TestSite.Ingestor();
        var sink = new CollectingIngestSink();

        var result = ingestor.Ingest("pdm/plant-a/_deadletter", "{}"u8.ToArray(), sink);

        Assert.Equal(RejectReason.UnknownTopic, result.Reason);
        Assert.Empty(sink.DeadLetters);
    }

    [Fact]
    public void Reject_reason_codes_are_stable_snake_case()
    {
        Assert.Equal(
            ["none", "unknown_asset", "unknown_sensor", "out_of_range", "not_finite", "device_time_skew", "asset_mismatch", "payload_too_large", "too_deep", "malformed", "unsupported_schema_version", "unknown_topic", "sequence_gap", "unknown_alias", "not_born", "stale_death", "poisoned"],
            Enum.GetValues<RejectReason>().Select(r => r.ToCode()));
    }

    [Fact]
    public void Invalid_configuration_fails_at_start_with_every_problem_named()
    {
        var model = TestSite.ModelOptions();
        model.Assets.Add(new AssetDefinition { Id = "PUMP-101" });
        model.Assets[0].Sensors.Add(new SensorDefinition { Id = "bad/id", ValidMin = 5, ValidMax = 1 });
        model.Assets[1].Sensors.Add(new SensorDefinition { Id = "x", ValidMin = 5, ValidMax = 1 });

        var errors = model.Validate();
        Assert.Contains(errors, e => e.Contains("declared twice", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("bad/id", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("ValidMin", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => AssetModel.Create(model));

        var options = TestSite.Options();
        options.Mappings.AzureIotHubDevices["hub-1"] = "NOT-AN-ASSET";
        var exception = Assert.Throws<ArgumentException>(() => TestSite.Ingestor(options));
        Assert.Contains("NOT-AN-ASSET", exception.Message, StringComparison.Ordinal);

        var limits = TestSite.Options();
        limits.MaxJsonDepth = 1000;
        limits.MaxPastAge = TimeSpan.Zero;
        Assert.Equal(2, limits.Validate().Count);
    }

    [Fact]
    public void Readings_carry_the_models_string_instances_and_dense_sensor_keys()
    {
        var ingestor = TestSite.Ingestor();
        var sink = new CollectingIngestSink();

        ingestor.Ingest(Topic, TestSite.Fixture("pdm/single.json"), sink);

        Assert.True(ingestor.Model.TryGetAsset("PUMP-101", out var asset));
        Assert.True(asset.TryGetSensor("bearing_temp_c", out var sensor));
        var reading = sink.Readings.Single(r => r.SensorKey == sensor.Key);
        Assert.Same(sensor.Id, reading.SensorId);
        Assert.Same(asset.Id, reading.AssetId);
        Assert.Same(ingestor.Model.SensorByKey(reading.SensorKey), sensor);
    }

    [Theory]
    [InlineData("pdm/plant-a/PUMP-101/telemetry", "pdm/batch.json")]
    [InlineData("pdm/plant-a/PUMP-101/telemetry", "pdm/nan-literals.json")]
    [InlineData("v1/gateway/telemetry", "thingsboard/gateway.json")]
    [InlineData("spBv1.0/plant-a/NBIRTH/edge-3", "sparkplug/nbirth.bin")]
    public void A_payload_split_across_buffer_segments_reads_the_same_as_a_contiguous_one(string topic, string fixture)
    {
        var bytes = TestSite.Fixture(fixture);
        var contiguousSink = new CollectingIngestSink();
        var segmentedSink = new CollectingIngestSink();

        var contiguous = TestSite.Ingestor().Ingest(topic, bytes, contiguousSink);
        var segmented = TestSite.Ingestor().Ingest(topic, Segmented(bytes, 7), TestSite.ReceivedAt, segmentedSink);

        Assert.Equal(contiguous, segmented);
        Assert.Equal(contiguousSink.Readings, segmentedSink.Readings);
        Assert.Equal(contiguousSink.Rejections.Select(r => r.Reason), segmentedSink.Rejections.Select(r => r.Reason));
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int size)
    {
        var first = new Segment(bytes.AsMemory(0, Math.Min(size, bytes.Length)), 0);
        var last = first;
        for (var offset = size; offset < bytes.Length; offset += size)
        {
            last = last.Append(bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    [Theory]
    [InlineData("pdm/plant-a/PUMP-101/telemetry", "pdm/batch.json")]
    [InlineData("v1/gateway/telemetry", "thingsboard/gateway.json")]
    public void Steady_state_json_ingestion_allocates_nothing_per_message(string topic, string fixture)
    {
        var options = TestSite.Options();
        options.DeadLetterSamplesPerReasonPerSecond = 1;
        var ingestor = TestSite.Ingestor(options);
        var sink = new DiscardingSink();
        var payload = new ReadOnlySequence<byte>(TestSite.Fixture(fixture));
        var identity = new MqttClientIdentity("c1", "A1_TEST_TOKEN");
        for (var i = 0; i < 200; i++)
        {
            ingestor.Ingest(topic, payload, TestSite.ReceivedAt, sink, identity);
        }

        // The gateway fixture has one unknown device: its rejection is counted, and its dead-letter sample was spent in warm-up.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var readings = 0;
        for (var i = 0; i < 1000; i++)
        {
            readings += ingestor.Ingest(topic, payload, TestSite.ReceivedAt, sink, identity).AcceptedReadings;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(readings >= 3000);
        Assert.True(allocated < 1000 * 8, $"{allocated} bytes for 1000 messages");
    }

    private sealed class DiscardingSink : IIngestSink
    {
        public void OnReading(in Reading reading)
        {
        }

        public void OnRejected(in Rejection rejection)
        {
        }

        public void OnDeadLetter(DeadLetterSample sample)
        {
        }

        public void OnSparkplugCommand(Sparkplug.SparkplugCommand command)
        {
        }

        public void OnAssetOffline(PdM.Contracts.Edge.AssetWentOffline offline)
        {
        }
    }
}
