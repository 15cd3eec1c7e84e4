using PdM.Features;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// The features a gateway computes when no model package brings its own spec: short tumbling count windows over the
/// pump signals the shipped rules and the simulator use. A model's spec replaces it when the model is deployed.
/// </summary>
public static class DefaultFeatureSpec
{
    public const string Json = """
        {
          "specVersion": 1,
          "window": { "kind": "count", "size": 10, "hop": 10, "watermarkMs": 0 },
          "features": [
            { "name": "vib_mean", "sensor": "vibration_rms_mm_s", "function": "mean" },
            { "name": "vib_max", "sensor": "vibration_rms_mm_s", "function": "max" },
            { "name": "vib_rms", "sensor": "vibration_rms_mm_s", "function": "rms" },
            { "name": "vib_slope", "sensor": "vibration_rms_mm_s", "function": "slope" },
            { "name": "temp_mean", "sensor": "bearing_temp_c", "function": "mean" },
            { "name": "temp_slope", "sensor": "bearing_temp_c", "function": "slope" }
          ]
        }
        """;

    public static FeatureSpec Load(string? path) =>
        FeatureSpec.Parse(string.IsNullOrWhiteSpace(path) ? Json : File.ReadAllText(path));
}
