using System.ComponentModel.DataAnnotations;

namespace PdM.Edge.Gateway;

/// <summary>Section <c>Gateway</c>.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>The plant this gateway serves; the <c>{site}</c> of <c>pdm/{site}/{asset}/telemetry</c>.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_.-]{1,64}$", ErrorMessage = "SiteId must be 1-64 characters of letters, digits, '_', '.', '-' (it is an MQTT topic segment)")]
    public string SiteId { get; set; } = "plant-a";

    /// <summary>
    /// Identity in decisions' provenance and the MQTT client id; defaults to <c>gw-{SiteId}</c>, or
    /// <c>gw-{SiteId}-{Sharding:Index}</c> on a sharded site (each gateway needs its own, e.g. for its deployment queue).
    /// </summary>
    public string? GatewayId { get; set; }

    /// <summary>Section <c>Gateway:Sharding</c>: several gateways splitting this site by asset.</summary>
    public Sharding.ShardingOptions Sharding { get; set; } = new();

    public MqttConnectionOptions Mqtt { get; set; } = new();

    public PipelineOptions Pipeline { get; set; } = new();

    /// <summary>Section <c>Gateway:Shedding</c>: the inference budget and what the gateway sheds when it falls behind.</summary>
    public Shedding.SheddingOptions Shedding { get; set; } = new();

    /// <summary>A FeatureSpec JSON file; unset means the built-in pump spec (<c>DefaultFeatureSpec</c>).</summary>
    public string? FeatureSpecPath { get; set; }

    /// <summary>
    /// Asset class → FeatureSpec JSON file computed for that class's assets (e.g. <c>turbofan</c> →
    /// <c>edge/PdM.Edge.Gateway/specs/turbofan-fd001.json</c>); classes not listed use <see cref="FeatureSpecPath"/> or the
    /// built-in default. A relative path is looked up under the app's base directory, then under each folder above it
    /// (a repository checkout). Every file is read and validated at start.
    /// </summary>
    public Dictionary<string, string> FeatureSpecs { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Section <c>Gateway:FeatureUpload</c>: closed windows batched to the cloud feature store.</summary>
    public FeatureUploadOptions FeatureUpload { get; set; } = new();

    /// <summary>Act as a Sparkplug B host: publish the retained STATE (online, with an offline Will).</summary>
    public bool SparkplugHost { get; set; } = true;

    /// <summary>How often each asset's latest decision is published as AssetHealthAssessed.</summary>
    [Range(1, 86_400)]
    public int HealthAssessmentIntervalSeconds { get; set; } = 60;

    /// <summary>How often the gateway journals a <c>GatewayHeartbeat</c> (machine, journal, uplink, models, assets) for the cloud.</summary>
    [Range(1, 86_400)]
    public int HeartbeatSeconds { get; set; } = 30;

    public string EffectiveGatewayId => !string.IsNullOrWhiteSpace(GatewayId) ? GatewayId
        : Sharding.Enabled ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"gw-{SiteId}-{Sharding.Index}") : $"gw-{SiteId}";
}

/// <summary>Section <c>Gateway:Mqtt</c>: how the gateway reaches the plant's broker.</summary>
public sealed class MqttConnectionOptions
{
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    [Range(1, 65535)]
    public int Port { get; set; } = 1883;

    /// <summary>
    /// Defaults to the gateway id. Must be stable across restarts: the persistent session is keyed by it. A sharded site
    /// (<c>Gateway:Sharding</c>) uses its shards' session ids instead. There is deliberately no shared subscription
    /// (<c>$share/…</c>): a broker hands a shared subscription's messages out one by one, which would split every
    /// asset's readings across gateways and compute its windows on fragments.
    /// </summary>
    public string? ClientId { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    public bool UseTls { get; set; }

    /// <summary>
    /// PEM/DER certificate of the CA that signed the broker's certificate (a plant CA). Set, the broker must chain to
    /// it alone; unset, to the system trust store. Either way the certificate must name <see cref="Host"/>.
    /// </summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>PKCS#12 (PFX) client certificate with its key, for brokers that authenticate clients by certificate.</summary>
    public string? ClientCertificatePath { get; set; }

    public string? ClientCertificatePassword { get; set; }

    /// <summary>How long the broker keeps our session (subscriptions and queued QoS 1 messages) while we are away.</summary>
    [Range(0, uint.MaxValue)]
    public long SessionExpirySeconds { get; set; } = 7 * 24 * 3600;

    [Range(1, 3600)]
    public int KeepAliveSeconds { get; set; } = 15;

    [Range(1, 600)]
    public int ReconnectMaxDelaySeconds { get; set; } = 30;

    /// <summary>
    /// At most this many QoS 1 PUBACKs are held and written to the broker together (see <c>PubAckCoalescer</c>); they
    /// are also written as soon as the pipeline has nothing more waiting. 1 writes each PUBACK on its own.
    /// </summary>
    [Range(1, 4096)]
    public int PubAckBatch { get; set; } = 64;

    /// <summary>Topic filters to subscribe to; unset means every format the gateway reads (PdM JSON of its site,
    /// ThingsBoard, Azure IoT Hub, Sparkplug B).</summary>
    public List<string>? TopicFilters { get; set; }
}

public enum BackpressurePolicy
{
    /// <summary>Stop reading from the broker until the pipeline catches up; the broker queues (nothing lost).</summary>
    Wait = 0,

    /// <summary>Drop the incoming message (counted). For plants that prefer fresh data over complete data.</summary>
    DropNewest = 1,
}

/// <summary>Section <c>Gateway:Pipeline</c>.</summary>
public sealed class PipelineOptions
{
    /// <summary>Messages buffered between the MQTT receive handler and the pipeline.</summary>
    [Range(16, 1_000_000)]
    public int ChannelCapacity { get; set; } = 8192;

    public BackpressurePolicy Backpressure { get; set; } = BackpressurePolicy.Wait;

    /// <summary>
    /// At most this many messages already waiting in the channel are taken together: their windows are decided in one
    /// go (one model run per asset class for all of them) and they are acknowledged in order. A message that finds
    /// nothing waiting is processed alone, at once: no timer ever holds a decision.
    /// </summary>
    [Range(1, 4096)]
    public int MaxBatchMessages { get; set; } = 64;
}

/// <summary>Section <c>Gateway:FeatureUpload</c>: how closed feature windows are batched into FeatureWindowsCollected.</summary>
public sealed class FeatureUploadOptions
{
    /// <summary>Off by default: a plant opts in to sending its feature windows for training.</summary>
    public bool Enabled { get; set; }

    /// <summary>A batch is journaled once it holds this many windows.</summary>
    [Range(1, 100_000)]
    public int MaxRows { get; set; } = 500;

    /// <summary>…or once its oldest window has waited this long, so a quiet plant's windows still arrive.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);
}
