using System.Text;

namespace PdM.Edge.Ingestion.Tests;

public sealed class PdmJsonDecoderTests
{
    private const string Topic = "pdm/plant-a/PUMP-101/telemetry";

    private static (IngestResult Result, CollectingIngestSink Sink) Run(string fixture, string topic = Topic)
    {
        var sink = new CollectingIngestSink();
        var result = TestSite.Ingestor().Ingest(topic, TestSite.Fixture(fixture), sink);
        return (result, sink);
    }

    private static RejectReason ReasonFor(CollectingIngestSink sink, string sensor) =>
        sink.Rejections.Single(r => r.SensorId == sensor).Reason;

    [Fact]
    public void Single_snapshot_yields_one_reading_per_sensor_with_model_identity_and_device_time()
    {
        var (result, sink) = Run("pdm/single.json");

        Assert.Equal(new IngestResult(IngestStatus.Accepted, MessageFormat.PdmJson, RejectReason.None, 2, 0), result);
        var vibration = sink.Readings.Single(r => r.SensorId == "vibration_rms_mm_s");
        Assert.Equal("plant-a", vibration.SiteId);
        Assert.Equal("PUMP-101", vibration.AssetId);
        Assert.Equal(3.1, vibration.Value);
        Assert.Equal(TestSite.DeviceTimeMs, vibration.DeviceTimeUnixMs);
        Assert.Equal(ReadingTraits.None, vibration.Flags);
        Assert.Equal(61.2, sink.Readings.Single(r => r.SensorId == "bearing_temp_c").Value);
        Assert.Empty(sink.Rejections);
    }

    [Fact]
    public void Batch_yields_every_snapshot_at_its_own_time_whatever_the_key_order()
    {
        var (result, sink) = Run("pdm/batch.json");

        Assert.Equal(6, result.AcceptedReadings);
        var vibration = sink.Readings.Where(r => r.SensorId == "vibration_rms_mm_s").ToList();
        Assert.Equal([3.0, 3.1, 3.2], vibration.Select(r => r.Value));
        Assert.Equal([TestSite.DeviceTimeMs - 2000, TestSite.DeviceTimeMs - 1000, TestSite.DeviceTimeMs], vibration.Select(r => r.DeviceTimeUnixMs));
    }

    [Fact]
    public void Schema_version_after_the_readings_is_still_honoured_and_unknown_keys_are_skipped()
    {
        var (result, sink) = Run("pdm/version-last.json");

        Assert.True(result.IsAccepted);
        Assert.Equal(2.5, Assert.Single(sink.Readings).Value);
    }

    [Theory]
    [InlineData("pdm/schema-v2.json", RejectReason.UnsupportedSchemaVersion)]
    [InlineData("pdm/schema-v2-late.json", RejectReason.UnsupportedSchemaVersion)]
    [InlineData("pdm/spoofed-asset.json", RejectReason.AssetMismatch)]
    [InlineData("pdm/duplicate-asset-key.json", RejectReason.Malformed)]
    [InlineData("pdm/duplicate-sensor-key.json", RejectReason.Malformed)]
    [InlineData("pdm/truncated.json", RejectReason.Malformed)]
    [InlineData("pdm/deep-nesting.json", RejectReason.TooDeep)]
    [InlineData("pdm/bare-nan.json", RejectReason.Malformed)]
    [InlineData("pdm/schema-version-string.json", RejectReason.Malformed)]
    [InlineData("pdm/time-without-offset.json", RejectReason.Malformed)]
    [InlineData("pdm/not-an-object.json", RejectReason.Malformed)]
    public void Hostile_or_broken_messages_are_rejected_whole_with_their_reason_and_yield_no_reading(string fixture, RejectReason expected)
    {
        var (result, sink) = Run(fixture);

        Assert.Equal(IngestStatus.Rejected, result.Status);
        Assert.Equal(expected, result.Reason);
        Assert.Empty(sink.Readings);
        var rejection = Assert.Single(sink.Rejections);
        Assert.True(rejection.WholeMessage);
        Assert.Equal(expected, rejection.Reason);
        Assert.Equal(Topic, rejection.Topic);
    }

    [Fact]
    public void Numbers_beyond_double_range_reject_only_those_readings_as_not_finite()
    {
        var (result, sink) = Run("pdm/huge-number.json");

        Assert.Equal(1, result.AcceptedReadings);
        Assert.Equal(2, result.RejectedReadings);
        Assert.Equal("bearing_temp_c", Assert.Single(sink.Readings).SensorId);
        Assert.Equal(RejectReason.NotFinite, ReasonFor(sink, "vibration_rms_mm_s"));
        Assert.Equal(RejectReason.NotFinite, ReasonFor(sink, "motor_current_a"));
    }

    [Fact]
    public void Named_NaN_and_Infinity_literals_are_read_and_rejected_as_not_finite()
    {
        var (result, sink) = Run("pdm/nan-literals.json");

        Assert.Equal(1, result.AcceptedReadings);
        Assert.Equal(1480, Assert.Single(sink.Readings).Value);
        Assert.All(sink.Rejections, r => Assert.Equal("not_finite", r.Code));
        Assert.Equal(3, sink.Rejections.Count);
    }

    [Fact]
    public void Values_of_the_wrong_type_reject_only_themselves()
    {
        var (result, sink) = Run("pdm/wrong-types.json");

        Assert.True(result.IsAccepted);
        Assert.Equal(4.2, Assert.Single(sink.Readings).Value);
        Assert.Equal(4, result.RejectedReadings);
        Assert.All(sink.Rejections, r => Assert.Equal(RejectReason.Malformed, r.Reason));
        Assert.All(sink.Rejections, r => Assert.False(r.WholeMessage));
    }

    [Fact]
    public void Out_of_range_and_unknown_sensors_are_rejected_per_reading()
    {
        var (result, sink) = Run("pdm/out-of-range-and-unknown.json");

        Assert.Equal(1, result.AcceptedReadings);
        Assert.Equal(RejectReason.OutOfRange, ReasonFor(sink, "vibration_rms_mm_s"));
        Assert.Contains(sink.Rejections, r => r.Reason == RejectReason.UnknownSensor && r.SensorId is null);
    }

    [Fact]
    public void Device_times_too_far_in_the_future_or_past_are_rejected_as_skew()
    {
        var (result, sink) = Run("pdm/skewed-times.json");

        Assert.Equal(1, result.AcceptedReadings);
        Assert.Equal(3.2, Assert.Single(sink.Readings).Value);
        Assert.Equal(2, sink.Rejections.Count(r => r.Reason == RejectReason.DeviceTimeSkew));
    }

    [Fact]
    public void Escaped_property_names_resolve_to_the_same_sensor()
    {
        var json = """{"schemaVersion":1,"asset":"PUMP\u002D101","deviceTime":"2026-11-25T08:00:00Z","readings":{"vibration\u005Frms_mm_s":3.1}}""";
        var sink = new CollectingIngestSink();

        var result = TestSite.Ingestor().Ingest(Topic, Encoding.UTF8.GetBytes(json), sink);

        Assert.Equal(1, result.AcceptedReadings);
        Assert.Equal("vibration_rms_mm_s", Assert.Single(sink.Readings).SensorId);
    }

    [Fact]
    public void Missing_device_time_falls_back_to_the_receive_time_and_says_so()
    {
        var sink = new CollectingIngestSink();

        TestSite.Ingestor().Ingest(Topic, """{"schemaVersion":1,"readings":{"speed_rpm":1480}}"""u8.ToArray(), sink);

        var reading = Assert.Single(sink.Readings);
        Assert.Equal(TestSite.ReceivedAt.ToUnixTimeMilliseconds(), reading.DeviceTimeUnixMs);
        Assert.Equal(ReadingTraits.TimeFromReceipt, reading.Flags);
    }

    [Theory]
    [InlineData("pdm/plant-a/PUMP-404/telemetry", RejectReason.UnknownAsset)]
    [InlineData("pdm/plant-b/PUMP-101/telemetry", RejectReason.UnknownTopic)]
    [InlineData("pdm/plant-a/PUMP-101/status", RejectReason.UnknownTopic)]
    [InlineData("pdm/plant-a/_deadletter", RejectReason.UnknownTopic)]
    [InlineData("factory/line1", RejectReason.UnknownTopic)]
    public void Topics_outside_the_site_model_are_rejected(string topic, RejectReason expected)
    {
        var (result, sink) = Run("pdm/single.json", topic);

        Assert.Equal(expected, result.Reason);
        Assert.Empty(sink.Readings);
    }

    [Fact]
    public void Two_megabyte_payload_is_rejected_before_parsing()
    {
        var payload = new byte[2 * 1024 * 1024];
        Array.Fill(payload, (byte)'[');
        var sink = new CollectingIngestSink();

        var result = TestSite.Ingestor().Ingest(Topic, payload, sink);

        Assert.Equal(RejectReason.PayloadTooLarge, result.Reason);
        Assert.Equal("payload_too_large", Assert.Single(sink.Rejections).Code);
    }
}
