using PdM.Features;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// The features a gateway computes when no spec file is configured: 10-second tumbling windows over the pump signals,
/// so each asset gets one decision every 10 s of device time whatever its sampling rate (a count window would make a
/// fast sensor ask for thousands of decisions a second). Readings up to 2 s late still land in their window. The rules
/// read their facts from features, so each signal a ruleset names is also carried as a <c>last</c> feature under the
/// signal's own name: rules and models judge exactly the same window.
/// </summary>
public static class DefaultFeatureSpec
{
    public const string Json = """
        {
          "specVersion": 1,
          "window": { "kind": "time", "lengthMs": 10000, "hopMs": 10000, "watermarkMs": 2000 },
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
