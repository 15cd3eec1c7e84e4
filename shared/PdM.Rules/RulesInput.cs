namespace PdM.Rules;

/// <summary>
/// What the rules see for one asset: named numeric facts (latest sensor values and/or window features, e.g.
/// <c>vibration_rms_mm_s</c>, <c>air_temperature_k</c>). Facts the ruleset does not declare are ignored; declared facts
/// that are absent or not finite are reported as missing, and the rules that need them do not fire.
/// </summary>
public sealed record RulesInput
{
    public required string AssetId { get; init; }

    /// <summary>Selects the ruleset: the highest valid version loaded for this class answers.</summary>
    public required string AssetClass { get; init; }

    public required IReadOnlyDictionary<string, double> Facts { get; init; }

    /// <summary>Start of the window the facts summarise; the evaluation time when the facts are a snapshot.</summary>
    public DateTimeOffset? WindowStart { get; init; }

    /// <summary>End of the window the facts summarise; the evaluation time when the facts are a snapshot.</summary>
    public DateTimeOffset? WindowEnd { get; init; }

    /// <summary>Where the facts came from (e.g. the MQTT topic); copied into every <c>Evidence.Source</c>.</summary>
    public string? Source { get; init; }
}
