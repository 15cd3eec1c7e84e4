using PdM.Features;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// The features a gateway computes when no spec file is configured: short tumbling count windows over the pump
/// signals. The rules read their facts from features, so each signal a ruleset names is also carried as a
/// <c>last</c> feature under the signal's own name: rules and models judge exactly the same window.
/// </summary>
public static class DefaultFeatureSpec
{
    public const string Json = """
        {
          "specVersion": 1,
          "window": { "kind": "count", "size": 5, "hop": 5, "watermarkMs": 0 },
          "features": [
            { "name": "vibration_rms_mm_s", "sensor": "vibration_rms_mm_s", "function": "last" },
            { "name": "vib_mean", "sensor": "vibration_rms_mm_s", "function": "mean" },
            { "name": "vib_max", "sensor": "vibration_rms_mm_s", "function": "max" },
            { "name": "vib_slope", "sensor": "vibration_rms_mm_s", "function": "slope" },
            { "name": "bearing_temperature_c", "sensor": "bearing_temperature_c", "function": "last" },
            { "name": "temp_mean", "sensor": "bearing_temperature_c", "function": "mean" },
            { "name": "temp_slope", "sensor": "bearing_temperature_c", "function": "slope" }
          ]
        }
        """;

    public static FeatureSpec Load(string? path) =>
        FeatureSpec.Parse(string.IsNullOrWhiteSpace(path) ? Json : File.ReadAllText(path));
}
