using System.Buffers;
using PdM.Edge.Ingestion.Model;
using PdM.Testing;

namespace PdM.Edge.Ingestion.Tests;

/// <summary>The site the fixtures were written for: plant-a with a pump and a motor.</summary>
internal static class TestSite
{
    public const string SiteId = "plant-a";

    /// <summary>Five seconds after the fixtures' device time 2026-11-25T08:00:00Z.</summary>
    public static readonly DateTimeOffset ReceivedAt = new(2026, 11, 25, 8, 0, 5, TimeSpan.Zero);

    public static readonly long DeviceTimeMs = new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    public static SiteAssetModelOptions ModelOptions() => new()
    {
        SiteId = SiteId,
        Assets =
        [
            new AssetDefinition
            {
                Id = "PUMP-101",
                AssetClass = "PU",
                CmmsRefs = new(StringComparer.Ordinal) { ["maximo:assetnum"] = "11430" },
                Sensors =
                [
                    Sensor("vibration_rms_mm_s", "mm/s", 0, 100, 1),
                    Sensor("bearing_temp_c", "Cel", -40, 200, 0.1),
                    Sensor("motor_current_a", "A", 0, 500, 1),
                    Sensor("speed_rpm", "/min", 0, 6000, 1),
                    Sensor("discharge_pressure_bar", "bar", 0, 40, 1),
                    Sensor("running", "1", 0, 1, 0.1),
                ],
            },
            new AssetDefinition
            {
                Id = "MOTOR-7",
                AssetClass = "EM",
                Sensors = [Sensor("winding_temp_c", "Cel", -40, 250, 0.1)],
            },
        ],
    };

    public static IngestionOptions Options()
    {
        var options = new IngestionOptions { DeadLetterSamplesPerReasonPerSecond = 1000 };
        options.Mappings.ThingsBoardDevices["A1_TEST_TOKEN"] = "PUMP-101";
        options.Mappings.ThingsBoardGatewayDevices["Pump 101"] = "PUMP-101";
        options.Mappings.AzureIotHubDevices["pump-101-hub"] = "PUMP-101";
        options.Sparkplug.Assets.Add(new SparkplugAssetMapping
        {
            GroupId = "plant-a",
            EdgeNodeId = "edge-3",
            DeviceId = "pump101",
            AssetId = "PUMP-101",
            Metrics = new(StringComparer.Ordinal) { ["Vibration/RMS"] = "vibration_rms_mm_s" },
        });
        return options;
    }

    public static TelemetryIngestor Ingestor(out ManualTimeProvider time, IngestionOptions? options = null, IngestionTelemetry? telemetry = null)
    {
        time = new ManualTimeProvider(ReceivedAt);
        return new TelemetryIngestor(AssetModel.Create(ModelOptions()), options ?? Options(), telemetry ?? new IngestionTelemetry(), time);
    }

    public static TelemetryIngestor Ingestor(IngestionOptions? options = null) => Ingestor(out _, options);

    public static byte[] Fixture(string relativePath) =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", relativePath));

    public static IngestResult Ingest(this TelemetryIngestor ingestor, string topic, byte[] payload, CollectingIngestSink sink, MqttClientIdentity client = default) =>
        ingestor.Ingest(topic, new ReadOnlySequence<byte>(payload), ReceivedAt, sink, client);

    private static SensorDefinition Sensor(string id, string unit, double min, double max, double hz) =>
        new() { Id = id, Unit = unit, ValidMin = min, ValidMax = max, NominalRateHz = hz };
}
