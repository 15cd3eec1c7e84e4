using System.ComponentModel.DataAnnotations;

namespace PdM.Edge.Ingestion;

/// <summary>Limits, tolerances and topic mappings of the ingestion pipeline (section <see cref="SectionName"/>).</summary>
public sealed class IngestionOptions
{
    public const string SectionName = "Ingestion";

    /// <summary>Larger payloads are rejected (payload_too_large) before any parsing. 256 KiB is Azure IoT Hub's own D2C limit.</summary>
    [Range(64, 64 * 1024 * 1024)]
    public int MaxPayloadBytes { get; set; } = 256 * 1024;

    /// <summary>Deepest JSON nesting (objects + arrays) accepted; deeper is too_deep. Every accepted format needs at most 4.</summary>
    [Range(4, 64)]
    public int MaxJsonDepth { get; set; } = 8;

    /// <summary>Deepest protobuf message nesting (Sparkplug templates nest metrics); deeper is too_deep.</summary>
    [Range(4, 100)]
    public int MaxProtobufDepth { get; set; } = 16;

    /// <summary>A device time further in the future than the receive time plus this is device_time_skew (a device clock gone wrong).</summary>
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A live device time older than this is device_time_skew: store-and-forward that old belongs to a backfill, not the live path.</summary>
    public TimeSpan MaxPastAge { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The same bound for readings flagged historical (Sparkplug is_historical), which are expected to be late.</summary>
    public TimeSpan MaxHistoricalAge { get; set; } = TimeSpan.FromDays(30);

    /// <summary>At most this many dead-letter samples per rejection reason per second; the rest are only counted.</summary>
    [Range(0, 10_000)]
    public int DeadLetterSamplesPerReasonPerSecond { get; set; } = 1;

    /// <summary>How much of the offending payload a dead-letter sample quotes.</summary>
    [Range(0, 64 * 1024)]
    public int DeadLetterExcerptBytes { get; set; } = 512;

    public TopicMappingOptions Mappings { get; set; } = new();

    public SparkplugOptions Sparkplug { get; set; } = new();

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        var context = new ValidationContext(this);
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(this, context, results, validateAllProperties: true))
        {
            foreach (var result in results)
            {
                errors.Add(result.ErrorMessage ?? "Invalid ingestion option.");
            }
        }

        if (MaxFutureSkew < TimeSpan.Zero || MaxPastAge <= TimeSpan.Zero || MaxHistoricalAge < MaxPastAge)
        {
            errors.Add("MaxFutureSkew must be >= 0, MaxPastAge > 0 and MaxHistoricalAge >= MaxPastAge.");
        }

        if (!Model.SiteAssetModelOptions.IsIdentifier(Sparkplug.HostId))
        {
            errors.Add("Sparkplug.HostId must be a non-empty MQTT topic segment.");
        }

        if (Sparkplug.MaxEdgeNodes < 1)
        {
            errors.Add("Sparkplug.MaxEdgeNodes must be at least 1.");
        }

        if (Sparkplug.RebirthRetryInterval <= TimeSpan.Zero)
        {
            errors.Add("Sparkplug.RebirthRetryInterval must be positive.");
        }

        foreach (var mapping in Sparkplug.Assets)
        {
            if (string.IsNullOrEmpty(mapping.GroupId) || string.IsNullOrEmpty(mapping.EdgeNodeId) || string.IsNullOrEmpty(mapping.AssetId))
            {
                errors.Add("Every Sparkplug asset mapping needs GroupId, EdgeNodeId and AssetId.");
            }
        }

        return errors;
    }
}

/// <summary>
/// Which asset a message from a non-PdM topic belongs to. Every lookup falls back to "the name is the asset id"
/// when no entry matches, so a plant that names devices after assets needs no mapping at all.
/// </summary>
public sealed class TopicMappingOptions
{
    /// <summary>ThingsBoard device API (<c>v1/devices/me/telemetry</c>): MQTT username (the access token) or client id → asset id.</summary>
    public Dictionary<string, string> ThingsBoardDevices { get; set; } = new(StringComparer.Ordinal);

    /// <summary>ThingsBoard gateway API (<c>v1/gateway/telemetry</c>): device name → asset id.</summary>
    public Dictionary<string, string> ThingsBoardGatewayDevices { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Azure IoT Hub D2C (<c>devices/{deviceId}/messages/events/...</c>): device id → asset id.</summary>
    public Dictionary<string, string> AzureIotHubDevices { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Sparkplug B host behaviour and identity mapping.</summary>
public sealed class SparkplugOptions
{
    /// <summary>This host application's id: the STATE topic is <c>spBv1.0/STATE/{HostId}</c>.</summary>
    [Required]
    public string HostId { get; set; } = "pdm-edge";

    /// <summary>While a node owes us a rebirth, repeat the NCMD at most this often (a lost NCMD must not stall the node forever, a flood must not spam it).</summary>
    public TimeSpan RebirthRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When false (default) metrics that map to no sensor of the asset are ignored: Sparkplug nodes publish their
    /// whole tag list and the model uses a few. When true they are rejected as unknown_sensor.
    /// </summary>
    public bool RejectUnmappedMetrics { get; set; }

    /// <summary>
    /// Most edge nodes whose session state is kept. Topics are attacker-controlled: without a bound, a flood of made-up
    /// node ids would grow the state without end. Messages from new nodes beyond it are refused (not_born), unanswered.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxEdgeNodes { get; set; } = 10_000;

    /// <summary>Metric name → sensor id, for every node and device (a per-asset entry in <see cref="Assets"/> wins).</summary>
    public Dictionary<string, string> MetricSensors { get; set; } = new(StringComparer.Ordinal);

    /// <summary>group/node[/device] → asset. Without an entry the device id (or, for node metrics, the node id) is taken as the asset id.</summary>
    public List<SparkplugAssetMapping> Assets { get; set; } = [];
}

public sealed class SparkplugAssetMapping
{
    public string GroupId { get; set; } = string.Empty;

    public string EdgeNodeId { get; set; } = string.Empty;

    /// <summary>Null or empty: the node's own metrics (NBIRTH/NDATA).</summary>
    public string? DeviceId { get; set; }

    public string AssetId { get; set; } = string.Empty;

    /// <summary>Metric name → sensor id for this node/device only.</summary>
    public Dictionary<string, string> Metrics { get; set; } = new(StringComparer.Ordinal);
}
