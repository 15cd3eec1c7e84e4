using System.Buffers;
using Google.Protobuf;
using PdM.Edge.Ingestion.Sparkplug;
using Metric = PdM.Edge.Ingestion.Sparkplug.Payload.Types.Metric;

namespace PdM.Edge.Ingestion.Tests;

public sealed class SparkplugCodecTests
{
    private static Payload Decode(byte[] bytes)
    {
        Assert.Equal(RejectReason.None, SparkplugCodec.TryDecode(new ReadOnlySequence<byte>(bytes), 16, out var payload));
        return payload!;
    }

    [Fact]
    public void Payloads_encoded_by_protoc_from_the_spec_field_numbers_decode_field_by_field()
    {
        var birth = Decode(TestSite.Fixture("sparkplug/nbirth.bin"));

        Assert.Equal((ulong)TestSite.DeviceTimeMs, birth.Timestamp);
        Assert.True(birth.HasSeq);
        Assert.Equal(0ul, birth.Seq);
        Assert.Equal("bdSeq", birth.Metrics[0].Name);
        Assert.Equal((uint)DataType.Int64, birth.Metrics[0].Datatype);
        Assert.Equal(7ul, birth.Metrics[0].LongValue);
        Assert.Equal(1ul, birth.Metrics[1].Alias);
        Assert.False(birth.Metrics[1].BooleanValue);
        Assert.Equal(Metric.ValueOneofCase.BooleanValue, birth.Metrics[1].ValueCase);
        Assert.Equal("3.0.1", birth.Metrics[2].StringValue);
        Assert.Equal(41.5f, birth.Metrics[3].FloatValue);

        var data = Decode(TestSite.Fixture("sparkplug/ddata.bin"));
        Assert.True(data.Metrics[1].IsHistorical);
        Assert.True(data.Metrics[2].IsNull);
        Assert.Equal(uint.MaxValue, data.Metrics[3].IntValue);
        Assert.False(data.Metrics[0].HasName);
    }

    [Fact]
    public void Every_field_survives_an_encode_decode_round_trip()
    {
        var properties = new Payload.Types.PropertySet();
        properties.Keys.Add("engUnit");
        properties.Values.Add(new Payload.Types.PropertyValue { Type = (uint)DataType.String, StringValue = "mm/s" });
        properties.Keys.Add("nested");
        var inner = new Payload.Types.PropertySet();
        inner.Keys.Add("limit");
        inner.Values.Add(new Payload.Types.PropertyValue { Type = (uint)DataType.Double, DoubleValue = 4.5 });
        properties.Values.Add(new Payload.Types.PropertyValue { Type = (uint)DataType.PropertySet, PropertysetValue = inner });

        var dataSet = new Payload.Types.DataSet { NumOfColumns = 2 };
        dataSet.Columns.Add(["t", "v"]);
        dataSet.Types_.Add([(uint)DataType.Int64, (uint)DataType.Float]);
        var row = new Payload.Types.DataSet.Types.Row();
        row.Elements.Add(new Payload.Types.DataSet.Types.DataSetValue { LongValue = 5 });
        row.Elements.Add(new Payload.Types.DataSet.Types.DataSetValue { FloatValue = 1.5f });
        dataSet.Rows.Add(row);

        var template = new Payload.Types.Template { Version = "1.0", TemplateRef = "Pump", IsDefinition = false };
        template.Parameters.Add(new Payload.Types.Template.Types.Parameter { Name = "ratedKw", Type = (uint)DataType.Float, FloatValue = 75 });
        template.Metrics.Add(new Metric { Name = "rpm", Datatype = (uint)DataType.Int32, IntValue = unchecked((uint)-3) });

        var original = new Payload { Timestamp = 1_795_593_600_000, Seq = 255, Uuid = "3c0a5e1f", Body = ByteString.CopyFrom(1, 2, 3) };
        original.Metrics.Add(new Metric
        {
            Name = "Vibration/RMS",
            Alias = ulong.MaxValue,
            Timestamp = 1,
            Datatype = (uint)DataType.Double,
            IsHistorical = true,
            IsTransient = true,
            Metadata = new Payload.Types.MetaData { ContentType = "text/plain", Size = 3, Seq = 1, FileName = "a", FileType = "txt", Md5 = "x", Description = "d", IsMultiPart = false },
            Properties = properties,
            DoubleValue = -0.25,
        });
        original.Metrics.Add(new Metric { Name = "table", Datatype = (uint)DataType.DataSet, DatasetValue = dataSet });
        original.Metrics.Add(new Metric { Name = "pump", Datatype = (uint)DataType.Template, TemplateValue = template });
        original.Metrics.Add(new Metric { Name = "blob", Datatype = (uint)DataType.Bytes, BytesValue = ByteString.CopyFrom(0, 255) });
        original.Metrics.Add(new Metric { Name = "gone", IsNull = true, Datatype = (uint)DataType.String });

        var decoded = Decode(SparkplugCodec.Encode(original));

        Assert.Equal(original, decoded);
        Assert.True(decoded.Metrics[4].HasIsNull);
        Assert.False(decoded.Metrics[3].HasAlias);
    }

    [Theory]
    [InlineData(DataType.Int8, 0xFFu, -1)]
    [InlineData(DataType.Int16, 0xFF85u, -123)]
    [InlineData(DataType.Int32, 0x80000000u, int.MinValue)]
    [InlineData(DataType.Uint32, 0x80000000u, 2147483648.0)]
    public void Signed_small_ints_are_read_as_twos_complement(DataType type, uint raw, double expected)
    {
        Assert.True(SparkplugCodec.TryGetNumericValue(new Metric { IntValue = raw }, (uint)type, out var value));
        Assert.Equal(expected, value);
    }

    [Fact]
    public void Non_numeric_or_mismatched_values_are_not_numbers()
    {
        Assert.False(SparkplugCodec.TryGetNumericValue(new Metric { StringValue = "1" }, (uint)DataType.String, out _));
        Assert.False(SparkplugCodec.TryGetNumericValue(new Metric { StringValue = "1" }, (uint)DataType.Double, out _));
        Assert.True(SparkplugCodec.TryGetNumericValue(new Metric { LongValue = ulong.MaxValue }, (uint)DataType.Int64, out var minusOne));
        Assert.Equal(-1, minusOne);
    }

    [Fact]
    public void Templates_nested_past_the_limit_are_too_deep_not_a_crash()
    {
        var metric = new Metric { Name = "leaf", DoubleValue = 1 };
        for (var i = 0; i < 40; i++)
        {
            var template = new Payload.Types.Template();
            template.Metrics.Add(metric);
            metric = new Metric { Name = "t", TemplateValue = template };
        }

        var payload = new Payload { Seq = 0 };
        payload.Metrics.Add(metric);

        Assert.Equal(RejectReason.TooDeep, SparkplugCodec.TryDecode(new ReadOnlySequence<byte>(payload.ToByteArray()), 16, out _));
    }

    [Fact]
    public void Truncated_protobuf_is_malformed()
    {
        var bytes = TestSite.Fixture("sparkplug/dbirth.bin");

        Assert.Equal(RejectReason.Malformed, SparkplugCodec.TryDecode(new ReadOnlySequence<byte>(bytes, 0, bytes.Length - 3), 16, out _));
    }
}
