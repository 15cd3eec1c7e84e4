using System.ComponentModel.DataAnnotations;

namespace PdM.Edge.Simulator;

/// <summary>Section <c>Simulator</c>.</summary>
public sealed class SimulatorOptions
{
    public const string Section = "Simulator";

    [Required]
    public string SiteId { get; set; } = "plant-a";

    public SimulatorMqttOptions Mqtt { get; set; } = new();

    /// <summary>Pumps named <c>{AssetPrefix}{101..}</c>.</summary>
    [Range(1, 100_000)]
    public int AssetCount { get; set; } = 4;

    [Required]
    public string AssetPrefix { get; set; } = "PUMP-";

    /// <summary>Assets whose DE bearing degrades: vibration climbs from healthy into ISO 10816 zone D.</summary>
    public List<string>? DegradingAssets { get; set; }

    /// <summary>Seconds from healthy to the top of the ramp.</summary>
    [Range(1, 86_400)]
    public double DegradationSeconds { get; set; } = 20;

    [Range(1, 3_600_000)]
    public int IntervalMilliseconds { get; set; } = 500;

    /// <summary>Seed of the measurement noise: the same seed replays the same plant.</summary>
    public int Seed { get; set; } = 42;

    public IReadOnlyList<string> EffectiveDegradingAssets => DegradingAssets is { Count: > 0 } ? DegradingAssets : [$"{AssetPrefix}102"];
}

public sealed class SimulatorMqttOptions
{
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    [Range(1, 65535)]
    public int Port { get; set; } = 1883;

    public string ClientId { get; set; } = "pdm-simulator";
}
