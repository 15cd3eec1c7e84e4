namespace PdM.Edge.Ingestion.Tests;

public sealed class ThingsBoardAndAzureDecoderTests
{
    private const string DeviceTopic = "v1/devices/me/telemetry";
    private static readonly MqttClientIdentity s_pumpToken = new("tb-client-17", "A1_TEST_TOKEN");

    [Fact]
    public void Flat_device_telemetry_is_taken_at_receive_time_with_booleans_as_0_and_1()
    {
        var sink = new CollectingIngestSink();

        var result = TestSite.Ingestor().Ingest(DeviceTopic, TestSite.Fixture("thingsboard/device-flat.json"), sink, s_pumpToken);

        Assert.Equal(3, result.AcceptedReadings);
        Assert.Equal(1, sink.Readings.Single(r => r.SensorId == "running").Value);
        Assert.All(sink.Readings, r => Assert.Equal(ReadingTraits.TimeFromReceipt, r.Flags));
        Assert.All(sink.Readings, r => Assert.Equal("PUMP-101", r.AssetId));
    }

    [Fact]
    public void Timestamped_device_telemetry_uses_ts()
    {
        var sink = new CollectingIngestSink();

        var result = TestSite.Ingestor().Ingest(DeviceTopic, TestSite.Fixture("thingsboard/device-ts.json"), sink, s_pumpToken);

        Assert.Equal(2, result.AcceptedReadings);
        Assert.All(sink.Readings, r => Assert.Equal(TestSite.DeviceTimeMs, r.DeviceTimeUnixMs));
    }

    [Fact]
    public void Array_of_timestamped_values_keeps_each_time_and_rejects_only_the_unknown_key()
    {
        var sink = new CollectingIngestSink();

        var result = TestSite.Ingestor().Ingest(DeviceTopic, TestSite.Fixture("thingsboard/device-array.json"), sink, s_pumpToken);

        Assert.Equal(2, result.AcceptedReadings);
        Assert.Equal([TestSite.DeviceTimeMs - 1000, TestSite.DeviceTimeMs], sink.Readings.Select(r => r.DeviceTimeUnixMs));
        Assert.Equal(RejectReason.UnknownSensor, Assert.Single(sink.Rejections).Reason);
    }

    [Fact]
    public void Device_identity_comes_from_the_mqtt_session_and_an_unmapped_one_is_unknown_asset()
    {
        var sink = new CollectingIngestSink();

        var result = TestSite.Ingestor().Ingest(DeviceTopic, TestSite.Fixture("thingsboard/device-ts.json"), sink, new MqttClientIdentity("someone", "WRONG_TOKEN"));

        Assert.Equal(RejectReason.UnknownAsset, result.Reason);
        Assert.Empty(sink.Readings);
    }

    [Fact]
    public void Non_integer_ts_is_malformed()
    {
        var sink = new CollectingIngestSink();

        var result = TestSite.Ingestor().Ingest(DeviceTopic, TestSite.Fixture("thingsboard/device-bad-ts.json"), sink, s_pumpToken);

        Assert.Equal(RejectReason.Malformed, result.Reason);
    }

    [Fact]
    public void Gateway_telemetry_maps_each_device_and_rejects_only_the_unknown_device()
    {
        var sink = new CollectingIngestSink();

        var result = TestSite.Ingestor().Ingest("v1/gateway/telemetry", TestSite.Fixture("thingsboard/gateway.json"), sink);

        Assert.Equal(IngestStatus.Accepted, result.Status);
        Assert.Equal(3, result.AcceptedReadings);
        Assert.Equal(2, sink.Readings.Count(r => r.AssetId == "PUMP-101"));
        Assert.Equal(80.5, sink.Readings.Single(r => r.AssetId == "MOTOR-7").Value);
        var rejection = Assert.Single(sink.Rejections);
        Assert.Equal(RejectReason.UnknownAsset, rejection.Reason);
        Assert.False(rejection.WholeMessage);
    }

    [Theory]
    [InlineData("devices/pump-101-hub/messages/events/$.ct=application%2Fjson&$.ce=utf-8")]
    [InlineData("devices/pump-101-hub/messages/events/")]
    [InlineData("devices/PUMP-101/messages/events/")]
    public void Azure_d2c_maps_the_device_id_to_an_asset(string topic)
    {
        var sink = new CollectingIngestSink();

        var result = TestSite.Ingestor().Ingest(topic, TestSite.Fixture("azure/d2c.json"), sink);

        Assert.Equal(MessageFormat.AzureIotHub, result.Format);
        Assert.Equal(2, result.AcceptedReadings);
        Assert.All(sink.Readings, r => Assert.Equal("PUMP-101", r.AssetId));
    }

    [Fact]
    public void Azure_d2c_with_a_non_json_content_type_is_malformed_and_an_unknown_device_is_unknown_asset()
    {
        var sink = new CollectingIngestSink();
        var ingestor = TestSite.Ingestor();

        var binary = ingestor.Ingest("devices/pump-101-hub/messages/events/$.ct=application%2Foctet-stream", TestSite.Fixture("azure/d2c.json"), sink);
        var unknown = ingestor.Ingest("devices/boiler-9/messages/events/", TestSite.Fixture("azure/d2c.json"), sink);

        Assert.Equal(RejectReason.Malformed, binary.Reason);
        Assert.Equal(RejectReason.UnknownAsset, unknown.Reason);
        Assert.Empty(sink.Readings);
    }
}
