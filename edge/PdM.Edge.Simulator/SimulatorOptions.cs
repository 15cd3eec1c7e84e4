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

    /// <summary>Section <c>Simulator:Cmapss</c>: turbofan engines replayed from NASA C-MAPSS, beside the pumps.</summary>
    public CmapssReplayOptions Cmapss { get; set; } = new();

    public IReadOnlyList<string> EffectiveDegradingAssets => DegradingAssets is { Count: > 0 } ? DegradingAssets : [$"{AssetPrefix}102"];
}

public sealed class SimulatorMqttOptions
{
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    [Range(1, 65535)]
    public int Port { get; set; } = 1883;

    public string ClientId { get; set; } = "pdm-simulator";

    /// <summary>Broker login (the production broker has no anonymous listener); unset connects anonymously.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }
}

/// <summary>
/// Section <c>Simulator:Cmapss</c>: replays engines of a C-MAPSS file (unit, cycle, 3 settings, s1..s21 per row) as PdM
/// JSON telemetry, one message per engine per cycle on <c>pdm/{site}/{AssetPrefix}{unit:000}/telemetry</c>.
/// </summary>
public sealed class CmapssReplayOptions
{
    public bool Enabled { get; set; }

    /// <summary>
    /// The file to replay. A relative path is looked up under the app's base directory (the build copies the committed
    /// <c>datasets/cmapss/test_FD001.txt</c> there), then under each folder above it (a repository checkout).
    /// </summary>
    [Required]
    public string File { get; set; } = "datasets/cmapss/test_FD001.txt";

    /// <summary>
    /// Engines to replay (<see cref="EffectiveUnits"/>). The defaults are test_FD001 engines with long records (184-203 cycles) whose T50, Ps30 and
    /// phi stay in the healthy envelope for their first ~130 cycles and leave it towards the end: healthy → degrading.
    /// </summary>
    [MinLength(1)]
    public List<int>? Units { get; set; }

    /// <summary>Asset id = prefix + unit as three digits (<c>ENGINE-031</c>).</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_.-]{0,60}$", ErrorMessage = "AssetPrefix must be letters, digits, '_', '.', '-' (it is part of an MQTT topic segment)")]
    public string AssetPrefix { get; set; } = "ENGINE-";

    /// <summary>Wall-clock time per replayed cycle. Device time always advances 1 s per cycle, as in training.</summary>
    [Range(10, 3_600_000)]
    public int CycleIntervalMilliseconds { get; set; } = 200;

    /// <summary>Start an engine again from its first cycle when its record ends (an engine swap), device time still advancing.</summary>
    public bool Loop { get; set; } = true;

    /// <summary>
    /// Sensors published (1-based C-MAPSS names; <see cref="EffectiveSensors"/>). The default is what the turbofan feature spec reads
    /// (edge/PdM.Edge.Gateway/specs/turbofan-fd001.json): the 14 sensors that move with degradation in FD001.
    /// </summary>
    [MinLength(1)]
    public List<string>? Sensors { get; set; }

    /// <summary>Also publish the engine's operating-cycle counter as sensor <c>cycle</c> (the turbofan spec uses it).</summary>
    public bool IncludeCycle { get; set; } = true;

    // Defaults live here, not in the list initializers: the configuration binder appends to a list it finds, so a
    // configured [20, 31] would become [20, 31, 34, 35, 20, 31].
    public IReadOnlyList<int> EffectiveUnits => Units is { Count: > 0 } ? Units : DefaultUnits;

    public IReadOnlyList<string> EffectiveSensors => Sensors is { Count: > 0 } ? Sensors : DefaultSensors;

    public static IReadOnlyList<int> DefaultUnits { get; } = [20, 31, 34, 35];

    public static IReadOnlyList<string> DefaultSensors { get; } = ["s2", "s3", "s4", "s7", "s8", "s9", "s11", "s12", "s13", "s14", "s15", "s17", "s20", "s21"];
}
