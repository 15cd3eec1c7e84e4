using System.Text;
using PdM.Edge.Ingestion.Sparkplug;

namespace PdM.Edge.Ingestion.Tests;

public sealed class SparkplugHostStateTests
{
    [Fact]
    public void Online_and_will_share_topic_timestamp_qos1_and_retain()
    {
        var online = SparkplugHostState.Online("pdm-edge-1", 1_795_593_600_000);
        var will = SparkplugHostState.Will("pdm-edge-1", 1_795_593_600_000);

        Assert.Equal("spBv1.0/STATE/pdm-edge-1", online.Topic);
        Assert.Equal(online.Topic, will.Topic);
        Assert.Equal("""{"online":true,"timestamp":1795593600000}""", Encoding.UTF8.GetString(online.Payload));
        Assert.Equal("""{"online":false,"timestamp":1795593600000}""", Encoding.UTF8.GetString(will.Payload));
        Assert.Equal(1, will.QualityOfService);
        Assert.True(will.Retain);
        Assert.True(online.Retain);
    }

    [Fact]
    public void State_payloads_parse_back_and_legacy_or_broken_ones_do_not()
    {
        Assert.True(SparkplugHostState.TryParse(SparkplugHostState.Payload(false, 42), out var online, out var timestamp));
        Assert.False(online);
        Assert.Equal(42, timestamp);
        Assert.False(SparkplugHostState.TryParse("OFFLINE"u8, out _, out _));
        Assert.False(SparkplugHostState.TryParse("""{"online":"yes","timestamp":1}"""u8, out _, out _));
        Assert.False(SparkplugHostState.TryParse("""{"online":true}"""u8, out _, out _));
    }
}
