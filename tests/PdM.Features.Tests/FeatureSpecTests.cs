namespace PdM.Features.Tests;

public sealed class FeatureSpecTests
{
    private const string Example = """
        {
          "specVersion": 1,
          "window": { "kind": "count", "size": 30, "hop": 10, "watermarkMs": 0 },
          "features": [
            { "name": "vib_rms_mean", "sensor": "vibration_rms_mm_s", "function": "mean" },
            { "name": "vib_p2p", "sensor": "vibration_rms_mm_s", "function": "peak_to_peak" },
            { "name": "temp_crest", "sensor": "bearing_temp_c", "function": "CrestFactor" },
            { "name": "temp_ewma", "sensor": "bearing_temp_c", "function": "ewma", "alpha": 0.25 },
            { "name": "current_drift", "sensor": "motor_current_a", "function": "deltaFromBaseline",
              "window": { "kind": "time", "lengthMs": 600000 } },
            { "name": "current_delta_fixed", "sensor": "motor_current_a", "function": "delta-from-baseline", "baseline": 12.5 }
          ]
        }
        """;

    [Fact]
    public void Parse_reads_every_member_and_accepts_camel_snake_and_pascal_function_names()
    {
        var spec = FeatureSpec.Parse(Example);

        Assert.Equal(1, spec.SpecVersion);
        Assert.Equal(WindowSpec.Count(30, 10), spec.Window);
        Assert.Equal(
            [FeatureFunction.Mean, FeatureFunction.PeakToPeak, FeatureFunction.CrestFactor, FeatureFunction.Ewma,
                FeatureFunction.DeltaFromBaseline, FeatureFunction.DeltaFromBaseline],
            spec.Features.Select(f => f.Function));
        Assert.Equal(0.25, spec.Features[3].Alpha);
        Assert.Equal(WindowSpec.Time(600_000), spec.Features[4].Window);
        Assert.Equal(12.5, spec.Features[5].Baseline);
        Assert.Equal(["vibration_rms_mm_s", "bearing_temp_c", "motor_current_a"], spec.Sensors);
    }

    [Fact]
    public void ToJson_round_trips_and_writes_canonical_camel_case()
    {
        var spec = FeatureSpec.Parse(Example);
        var json = spec.ToJson();
        var again = FeatureSpec.Parse(json);

        Assert.Equal(spec, again);
        Assert.Equal(json, again.ToJson());
        Assert.Contains("\"function\":\"peakToPeak\"", json, StringComparison.Ordinal);
        Assert.Contains("\"function\":\"deltaFromBaseline\"", json, StringComparison.Ordinal);
        Assert.Contains("\"window\":{\"kind\":\"count\",\"size\":30,\"hop\":10,\"watermarkMs\":0}", json, StringComparison.Ordinal);
        Assert.Contains("{\"kind\":\"time\",\"lengthMs\":600000,\"hopMs\":0,\"watermarkMs\":0}", json, StringComparison.Ordinal);
        Assert.DoesNotContain("lengthMs\":0", json, StringComparison.Ordinal);
    }

    [Fact]
    public void A_time_window_spec_round_trips()
    {
        var spec = new FeatureSpec
        {
            Window = WindowSpec.Time(60_000, 60_000, 5_000),
            Features = [new FeatureDefinition { Name = "t", Sensor = "temp", Function = FeatureFunction.Kurtosis }],
        };

        Assert.Equal("""{"specVersion":1,"window":{"kind":"time","lengthMs":60000,"hopMs":60000,"watermarkMs":5000},"features":[{"name":"t","sensor":"temp","function":"kurtosis"}]}""",
            spec.ToJson());
        Assert.Equal(spec, FeatureSpec.Parse(spec.ToJson()));
    }

    [Fact]
    public void Embedded_in_another_document_the_spec_keeps_its_canonical_form_and_is_validated()
    {
        var manifest = new Manifest("rul-fd001", FeatureSpec.Parse(Example));

        var json = System.Text.Json.JsonSerializer.Serialize(manifest);
        var back = System.Text.Json.JsonSerializer.Deserialize<Manifest>(json);

        Assert.Contains("\"Features\":" + manifest.Features.ToJson(), json, StringComparison.Ordinal);
        Assert.Equal(manifest, back);
        var broken = json.Replace("\"alpha\":0.25", "\"alpha\":2", StringComparison.Ordinal);
        var ex = Assert.Throws<FeatureSpecException>(() => System.Text.Json.JsonSerializer.Deserialize<Manifest>(broken));
        Assert.Contains("ewma needs alpha in (0, 1], got 2", ex.Message, StringComparison.Ordinal);
    }

    public sealed record Manifest(string Model, FeatureSpec Features);

    [Fact]
    public void Specs_that_differ_in_one_feature_are_not_equal()
    {
        var a = FeatureSpec.Parse(Example);
        var b = a with { Features = [.. a.Features.Take(5), a.Features[5] with { Baseline = 12.6 }] };

        Assert.NotEqual(a, b);
        Assert.Equal(a.Sensors, b.Sensors);
    }

    public static TheoryData<string, string> InvalidSpecs => new()
    {
        { Spec("""{"name":"a","sensor":"x","function":"mean"},{"name":"a","sensor":"y","function":"max"}"""),
            "features[1] ('a'): name 'a' is already used by features[0]" },
        { Spec("""{"name":"a","sensor":"x","function":"median"}"""),
            "features[0] ('a'): function 'median' is unknown; expected one of mean, std, min, max, rms, peakToPeak" },
        { Spec("""{"name":"e","sensor":"x","function":"ewma"}"""),
            "features[0] ('e'): ewma needs alpha in (0, 1], but alpha is missing" },
        { Spec("""{"name":"e","sensor":"x","function":"ewma","alpha":1.5}"""),
            "features[0] ('e'): ewma needs alpha in (0, 1], got 1.5" },
        { Spec("""{"name":"e","sensor":"x","function":"ewma","alpha":0}"""),
            "features[0] ('e'): ewma needs alpha in (0, 1], got 0" },
        { Spec("""{"name":"m","sensor":"x","function":"mean","alpha":0.5}"""),
            "features[0] ('m'): alpha applies only to ewma, not to mean" },
        { Spec("""{"name":"m","sensor":"x","function":"max","baseline":3}"""),
            "features[0] ('m'): baseline applies only to deltaFromBaseline, not to max" },
        { Spec("""{"name":"m","sensor":"","function":"max"}"""),
            "features[0] ('m'): sensor is empty" },
        { Spec("""{"sensor":"x","function":"max"}"""),
            "features[0]: name is missing" },
        { Spec("""{"name":"m","sensor":"x","function":"max"}""", """{"kind":"count","size":0}"""),
            "window.size must be > 0 for a count window, got 0" },
        { Spec("""{"name":"m","sensor":"x","function":"max"}""", """{"kind":"count","size":30,"hop":31}"""),
            "window.hop must be in [0, size=30] (0 or size = tumbling), got 31" },
        { Spec("""{"name":"m","sensor":"x","function":"max"}""", """{"kind":"time","lengthMs":1000,"hopMs":2000}"""),
            "window.hopMs must be in [0, lengthMs=1000] (0 or lengthMs = tumbling), got 2000" },
        { Spec("""{"name":"m","sensor":"x","function":"max"}""", """{"kind":"time","lengthMs":-5}"""),
            "window.lengthMs must be > 0 for a time window, got -5" },
        { Spec("""{"name":"m","sensor":"x","function":"max"}""", """{"kind":"time","lengthMs":1000,"size":3}"""),
            "window: size and hop belong to count windows; a time window uses lengthMs and hopMs" },
        { Spec("""{"name":"m","sensor":"x","function":"max"}""", """{"kind":"count","size":3,"watermarkMs":-1}"""),
            "window.watermarkMs must be ≥ 0, got -1" },
        { Spec("""{"name":"m","sensor":"x","function":"max"}""", """{"kind":"sliding","size":3}"""),
            "window.kind 'sliding' is unknown; expected one of count, time" },
        { Spec("""{"name":"m","sensor":"x","function":"max","window":{"kind":"count","size":10,"hop":5}}"""),
            "features[0] ('m').window: a feature's own window is a look-back evaluated when the default window closes, so its hop must be 0" },
        { Spec("""{"name":"m","sensor":"x","function":"max","window":{"kind":"count","size":10,"watermarkMs":7}}"""),
            "features[0] ('m').window.watermarkMs must be 0 or equal to the default window's (0)" },
        { """{"specVersion":2,"window":{"kind":"count","size":3},"features":[{"name":"m","sensor":"x","function":"max"}]}""",
            "specVersion 2 is not supported; this library reads version 1" },
        { """{"specVersion":1,"window":{"kind":"count","size":3},"features":[]}""",
            "features is empty; a spec needs at least one feature" },
        { """{"specVersion":1,"features":[{"name":"m","sensor":"x","function":"max"}]}""",
            "window is missing (the default window is required)" },
        { """{"specVersion":1,"window":{"kind":"count","sise":3},"features":[{"name":"m","sensor":"x","function":"max"}]}""",
            "'sise' could not be mapped" },
        { """{"specVersion":1,"window":{"kind":"count","size":"3"},"features":[]}""",
            "the feature spec is not valid JSON at $.window.size" },
        { """{"specVersion":1,"window":""", "the feature spec is not valid JSON" },
        { "  ", "the feature spec JSON is empty" },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public void Invalid_specs_are_rejected_with_a_precise_reason(string json, string reason)
    {
        var ex = Assert.Throws<FeatureSpecException>(() => FeatureSpec.Parse(json));

        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported_not_just_the_first()
    {
        var json = Spec("""{"name":"a","sensor":"x","function":"ewma"},{"name":"a","sensor":"x","function":"mean"}""",
            """{"kind":"count","size":0}""");

        var ex = Assert.Throws<FeatureSpecException>(() => FeatureSpec.Parse(json));

        Assert.Equal(3, ex.Errors.Count);
    }

    [Fact]
    public void A_spec_built_in_code_is_validated_by_the_engine()
    {
        var spec = new FeatureSpec
        {
            Window = WindowSpec.Count(5),
            Features = [new FeatureDefinition { Name = "e", Sensor = "x", Function = FeatureFunction.Ewma, Alpha = -1 }],
        };

        var ex = Assert.Throws<FeatureSpecException>(() => new FeatureEngine(spec, (in FeatureVector _) => { }));

        Assert.Contains("ewma needs alpha in (0, 1], got -1", ex.Message, StringComparison.Ordinal);
    }

    private static string Spec(string features, string window = """{"kind":"count","size":30}""") =>
        "{\"specVersion\":1,\"window\":" + window + ",\"features\":[" + features + "]}";
}
