using Google.Protobuf;
using PdM.Contracts.Edge;
using PdM.Edge.Ingestion.Sparkplug;
using Metric = PdM.Edge.Ingestion.Sparkplug.Payload.Types.Metric;

namespace PdM.Edge.Ingestion.Tests;

public sealed class SparkplugHostSessionTests
{
    private const string NBirth = "spBv1.0/plant-a/NBIRTH/edge-3";
    private const string NDeath = "spBv1.0/plant-a/NDEATH/edge-3";
    private const string DBirth = "spBv1.0/plant-a/DBIRTH/edge-3/pump101";
    private const string DData = "spBv1.0/plant-a/DDATA/edge-3/pump101";
    private const string DDeath = "spBv1.0/plant-a/DDEATH/edge-3/pump101";
    private const string RebirthTopic = "spBv1.0/plant-a/NCMD/edge-3";

    private readonly TelemetryIngestor _ingestor = TestSite.Ingestor();
    private readonly CollectingIngestSink _sink = new();

    private IngestResult Send(string topic, string fixture) => _ingestor.Ingest(topic, TestSite.Fixture(fixture), _sink);

    private IngestResult Send(string topic, Payload payload) => _ingestor.Ingest(topic, payload.ToByteArray(), _sink);

    private void Born()
    {
        Assert.True(Send(NBirth, "sparkplug/nbirth.bin").IsAccepted);
        Assert.True(Send(DBirth, "sparkplug/dbirth.bin").IsAccepted);
        _sink.Clear();
    }

    private static Payload Data(ulong seq, double vibration)
    {
        var payload = new Payload { Seq = seq, Timestamp = (ulong)TestSite.DeviceTimeMs };
        payload.Metrics.Add(new Metric { Alias = 10, Timestamp = (ulong)TestSite.DeviceTimeMs, Datatype = (uint)DataType.Double, DoubleValue = vibration });
        return payload;
    }

    private static void AssertRebirth(SparkplugCommand command)
    {
        Assert.Equal(RebirthTopic, command.Topic);
        var payload = Payload.Parser.ParseFrom(command.Payload);
        var metric = Assert.Single(payload.Metrics);
        Assert.Equal("Node Control/Rebirth", metric.Name);
        Assert.Equal((uint)DataType.Boolean, metric.Datatype);
        Assert.True(metric.BooleanValue);
    }

    [Fact]
    public void Births_record_bdSeq_and_seq_and_deliver_the_birth_values_of_mapped_metrics()
    {
        var node = Send(NBirth, "sparkplug/nbirth.bin");
        var device = Send(DBirth, "sparkplug/dbirth.bin");

        // The node itself is not an asset: its metrics (cpu_temp_c, properties, node control) are not readings.
        Assert.Equal(new IngestResult(IngestStatus.Accepted, MessageFormat.SparkplugB, RejectReason.None, 0, 0), node);
        Assert.Equal(2, device.AcceptedReadings);
        var vibration = _sink.Readings.Single(r => r.SensorId == "vibration_rms_mm_s");
        Assert.Equal(2.5, vibration.Value);
        Assert.Equal("PUMP-101", vibration.AssetId);
        Assert.Equal(ReadingTraits.Birth, vibration.Flags);
        Assert.Equal(60.0, _sink.Readings.Single(r => r.SensorId == "bearing_temp_c").Value);
        var status = _ingestor.Sparkplug.GetNodeStatus("plant-a", "edge-3")!;
        Assert.Equal(SparkplugNodePhase.Online, status.Phase);
        Assert.Equal(7, status.BdSeq);
        Assert.Equal(1, status.LastSeq);
        Assert.Equal(["pump101"], status.BornDevices);
        Assert.Empty(_sink.Commands);
    }

    [Fact]
    public void Aliased_data_resolves_through_the_birth_flags_historical_skips_null_and_decodes_signed_ints()
    {
        Born();

        var result = Send(DData, "sparkplug/ddata.bin");

        Assert.Equal(2, result.AcceptedReadings);
        var live = _sink.Readings.Single(r => r.SensorId == "vibration_rms_mm_s");
        Assert.Equal(3.3, live.Value);
        Assert.False(live.IsHistorical);
        var historical = _sink.Readings.Single(r => r.SensorId == "bearing_temp_c");
        Assert.True(historical.IsHistorical);
        Assert.Equal(59.5, historical.Value);
        Assert.Equal(TestSite.DeviceTimeMs - 60_000, historical.DeviceTimeUnixMs);
        // alias 13 is Int32 per its birth: 0xFFFFFFFF is -1 A, below the sensor's range; the is_null copy is skipped.
        var rejection = Assert.Single(_sink.Rejections);
        Assert.Equal(RejectReason.OutOfRange, rejection.Reason);
        Assert.Equal(-1, rejection.Value);
    }

    [Fact]
    public void Seq_wraps_from_255_to_0_without_a_rebirth()
    {
        Born();

        var accepted = 0;
        for (var i = 2; i < 2 + 600; i++)
        {
            accepted += Send(DData, Data((ulong)(i % 256), 3.0)).AcceptedReadings;
        }

        Assert.Equal(600, accepted);
        Assert.Empty(_sink.Commands);
        Assert.Empty(_sink.Rejections);
        Assert.Equal(SparkplugNodePhase.Online, _ingestor.Sparkplug.GetNodeStatus("plant-a", "edge-3")!.Phase);
    }

    [Fact]
    public void A_seq_gap_requests_a_rebirth_once_and_refuses_the_nodes_data_until_the_next_nbirth()
    {
        Born();

        var gap = Send(DData, Data(5, 3.0));
        var next = Send(DData, Data(6, 3.1));

        Assert.Equal(RejectReason.SequenceGap, gap.Reason);
        Assert.Equal(RejectReason.NotBorn, next.Reason);
        AssertRebirth(Assert.Single(_sink.Commands));
        Assert.Equal(RejectReason.SequenceGap, _sink.Commands[0].Cause);
        Assert.Empty(_sink.Readings);
        Assert.Equal(SparkplugNodePhase.AwaitingRebirth, _ingestor.Sparkplug.GetNodeStatus("plant-a", "edge-3")!.Phase);

        Born();
        Assert.Equal(1, Send(DData, Data(2, 3.2)).AcceptedReadings);
    }

    [Fact]
    public void A_lost_rebirth_command_is_repeated_after_the_retry_interval()
    {
        Born();
        var late = TestSite.ReceivedAt + TimeSpan.FromSeconds(6);

        Send(DData, Data(9, 3.0));
        _ingestor.Ingest(DData, Data(10, 3.0).ToByteArray(), late, _sink);

        Assert.Equal(2, _sink.Commands.Count);
    }

    [Fact]
    public void An_unknown_alias_requests_a_rebirth_and_drops_the_whole_message()
    {
        Born();

        var result = Send(DData, "sparkplug/ddata-unknown-alias.bin");

        Assert.Equal(RejectReason.UnknownAlias, result.Reason);
        Assert.Empty(_sink.Readings);
        AssertRebirth(Assert.Single(_sink.Commands));
    }

    [Fact]
    public void Data_before_birth_requests_a_rebirth()
    {
        var result = Send(DData, Data(2, 3.0));

        Assert.Equal(RejectReason.NotBorn, result.Reason);
        AssertRebirth(Assert.Single(_sink.Commands));
        Assert.Equal(RejectReason.NotBorn, _sink.Commands[0].Cause);
    }

    [Fact]
    public void Device_data_before_its_dbirth_requests_a_rebirth()
    {
        Assert.True(Send(NBirth, "sparkplug/nbirth.bin").IsAccepted);

        var result = Send(DData, Data(1, 3.0));

        Assert.Equal(RejectReason.NotBorn, result.Reason);
        Assert.Single(_sink.Commands);
    }

    [Fact]
    public void Ndeath_with_the_births_bdSeq_reports_every_asset_behind_the_node_offline()
    {
        Born();

        var result = Send(NDeath, "sparkplug/ndeath.bin");

        Assert.True(result.IsAccepted);
        var offline = Assert.Single(_sink.Offline);
        Assert.Equal("PUMP-101", offline.AssetId);
        Assert.Equal("plant-a", offline.SiteId);
        Assert.Equal(AssetOfflineReason.EdgeNodeDeath, offline.Reason);
        Assert.Equal(7, offline.BdSeq);
        Assert.Equal("pump101", offline.DeviceId);
        Assert.Equal(TestSite.ReceivedAt, offline.OccurredAt);
        Assert.Equal(SparkplugNodePhase.Offline, _ingestor.Sparkplug.GetNodeStatus("plant-a", "edge-3")!.Phase);
        Assert.Equal(RejectReason.StaleDeath, Send(NDeath, "sparkplug/ndeath.bin").Reason);
    }

    [Fact]
    public void A_stale_ndeath_from_an_older_session_is_ignored()
    {
        Born();

        var result = Send(NDeath, "sparkplug/ndeath-stale.bin");

        Assert.Equal(RejectReason.StaleDeath, result.Reason);
        Assert.Empty(_sink.Offline);
        Assert.Equal(SparkplugNodePhase.Online, _ingestor.Sparkplug.GetNodeStatus("plant-a", "edge-3")!.Phase);
        Assert.Equal(1, Send(DData, Data(2, 3.0)).AcceptedReadings);
    }

    [Fact]
    public void Ddeath_reports_the_device_asset_offline_and_later_device_data_needs_a_new_dbirth()
    {
        Born();
        Assert.True(Send(DData, Data(2, 3.0)).IsAccepted);

        var death = Send(DDeath, "sparkplug/ddeath.bin");
        var after = Send(DData, Data(4, 3.0));

        Assert.True(death.IsAccepted);
        var offline = Assert.Single(_sink.Offline);
        Assert.Equal(AssetOfflineReason.DeviceDeath, offline.Reason);
        Assert.Equal("PUMP-101", offline.AssetId);
        Assert.Equal(RejectReason.NotBorn, after.Reason);
    }

    [Fact]
    public void An_unmapped_device_is_tracked_for_seq_but_its_data_is_unknown_asset()
    {
        Born();
        var birth = new Payload { Seq = 2, Timestamp = (ulong)TestSite.DeviceTimeMs };
        birth.Metrics.Add(new Metric { Name = "Level", Alias = 50, Datatype = (uint)DataType.Double, DoubleValue = 1 });

        var unmapped = Send("spBv1.0/plant-a/DBIRTH/edge-3/tank9", birth);
        var mapped = Send(DData, Data(3, 3.0));

        Assert.Equal(RejectReason.UnknownAsset, unmapped.Reason);
        Assert.Equal(1, mapped.AcceptedReadings);
        Assert.Empty(_sink.Commands);
    }

    [Fact]
    public void Data_by_name_without_alias_is_accepted_and_an_undeclared_name_requests_a_rebirth()
    {
        Born();
        var byName = new Payload { Seq = 2 };
        byName.Metrics.Add(new Metric { Name = "bearing_temp_c", Timestamp = (ulong)TestSite.DeviceTimeMs, FloatValue = 62.5f });
        var undeclared = new Payload { Seq = 3 };
        undeclared.Metrics.Add(new Metric { Name = "oil_level", Timestamp = (ulong)TestSite.DeviceTimeMs, FloatValue = 1 });

        Assert.Equal(1, Send(DData, byName).AcceptedReadings);
        Assert.Equal(RejectReason.UnknownAlias, Send(DData, undeclared).Reason);
        Assert.Single(_sink.Commands);
    }

    [Fact]
    public void Garbage_on_a_data_topic_is_malformed_and_requests_a_rebirth()
    {
        Born();

        var result = _ingestor.Ingest(DData, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], _sink);

        Assert.Equal(RejectReason.Malformed, result.Reason);
        Assert.Single(_sink.Commands);
    }

    [Fact]
    public void Commands_and_host_state_messages_are_accepted_without_readings()
    {
        var command = _ingestor.Ingest(RebirthTopic, SparkplugCodec.EncodeRebirthCommand(TestSite.DeviceTimeMs), _sink);
        var state = _ingestor.Ingest("spBv1.0/STATE/other-host", SparkplugHostState.Payload(true, 1), _sink);

        Assert.Equal(new IngestResult(IngestStatus.Accepted, MessageFormat.SparkplugB, RejectReason.None, 0, 0), command);
        Assert.Equal(MessageFormat.SparkplugState, state.Format);
        Assert.Empty(_sink.Commands);
    }

    [Fact]
    public void Made_up_node_ids_beyond_the_limit_are_refused_without_state_or_commands()
    {
        var options = TestSite.Options();
        options.Sparkplug.MaxEdgeNodes = 3;
        var ingestor = TestSite.Ingestor(options);

        for (var i = 0; i < 50; i++)
        {
            ingestor.Ingest($"spBv1.0/plant-a/NDATA/node-{i}", Data(1, 1).ToByteArray(), _sink);
        }

        Assert.Equal(3, _sink.Commands.Count);
        Assert.Null(ingestor.Sparkplug.GetNodeStatus("plant-a", "node-3"));
        Assert.Equal(50, _sink.Rejections.Count(r => r.Reason == RejectReason.NotBorn));
    }
}
