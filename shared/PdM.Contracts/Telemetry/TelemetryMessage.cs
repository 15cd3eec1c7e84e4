using System.Text.Json.Serialization;

namespace PdM.Contracts.Telemetry;

/// <summary>
/// The PdM JSON telemetry payload a device publishes on <c>pdm/{site}/{asset}/telemetry</c>.
/// Either one snapshot (<see cref="DeviceTime"/> + <see cref="Readings"/>) or a <see cref="Batch"/> of them.
/// </summary>
/// <example>
/// {"schemaVersion":1,"asset":"PUMP-101","deviceTime":"2026-11-25T08:00:00.000Z",
///  "readings":{"vibration_rms_mm_s":3.1,"bearing_temp_c":61.2}}
/// </example>
public sealed record TelemetryMessage
{
    /// <summary>The only version this build understands; a newer one is rejected with a reason, not guessed at.</summary>
    public const int CurrentSchemaVersion = 1;

    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; }

    /// <summary>Optional; when present it must equal the asset in the topic (anti-spoofing).</summary>
    [JsonPropertyName("asset")]
    public string? Asset { get; init; }

    [JsonPropertyName("deviceTime")]
    public DateTimeOffset? DeviceTime { get; init; }

    /// <summary>Sensor id → value, in the unit the site's asset model declares for that sensor.</summary>
    [JsonPropertyName("readings")]
    public Dictionary<string, double>? Readings { get; init; }

    [JsonPropertyName("batch")]
    public List<TelemetrySnapshot>? Batch { get; init; }
}

/// <summary>One timestamped set of readings inside a batch.</summary>
public sealed record TelemetrySnapshot
{
    [JsonPropertyName("deviceTime")]
    public DateTimeOffset DeviceTime { get; init; }

    [JsonPropertyName("readings")]
    public Dictionary<string, double> Readings { get; init; } = [];
}
