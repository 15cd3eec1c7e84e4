namespace PdM.Testing;

/// <summary>Feature specs for gateway tests, written to temp files the gateway reads through Gateway:FeatureSpecPath.</summary>
public static class TestFeatureSpecs
{
    /// <summary>
    /// A one-reading tumbling window carrying the pump signals as <c>last</c> features: every reading gets its own
    /// decision once the next reading closes its window, so a test controls exactly which value is judged.
    /// </summary>
    public static string PerReading()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pdm-test-spec-per-reading-{Environment.ProcessId}.json");
        File.WriteAllText(path, """
            {"specVersion":1,"window":{"kind":"count","size":1,"hop":1,"watermarkMs":0},
             "features":[{"name":"vibration_rms_mm_s","sensor":"vibration_rms_mm_s","function":"last"},
                         {"name":"bearing_temperature_c","sensor":"bearing_temperature_c","function":"last"}]}
            """);
        return path;
    }
}
