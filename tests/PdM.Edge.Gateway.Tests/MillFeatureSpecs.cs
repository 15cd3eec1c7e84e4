namespace PdM.Edge.Gateway.Tests;

/// <summary>Feature specs over the AI4I mill sensors (the test packages' inputs), for the pipeline's batching tests.</summary>
internal static class MillFeatureSpecs
{
    /// <summary>
    /// The five AI4I sensors as <c>mean</c> features over a sliding window of two readings: each reading of an asset
    /// after its first closes a window, so a burst across assets gives the model rows of several assets at once.
    /// Written as <c>spec.json</c> in <paramref name="folder"/>; returns its path.
    /// </summary>
    public static async Task<string> WriteTwoReadingMeans(string folder)
    {
        var spec = Path.Combine(folder, "spec.json");
        await File.WriteAllTextAsync(spec, """
            {"specVersion":1,"window":{"kind":"count","size":2,"hop":1,"watermarkMs":0},
             "features":[{"name":"air_temperature_k","sensor":"air_temperature_k","function":"mean"},
                         {"name":"process_temperature_k","sensor":"process_temperature_k","function":"mean"},
                         {"name":"rotational_speed_rpm","sensor":"rotational_speed_rpm","function":"mean"},
                         {"name":"torque_nm","sensor":"torque_nm","function":"mean"},
                         {"name":"tool_wear_min","sensor":"tool_wear_min","function":"mean"}]}
            """);
        return spec;
    }
}
