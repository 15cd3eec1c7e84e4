using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PdM.Testing;

namespace PdM.Edge.Inference.Tests;

/// <summary>A decision policy over real ONNX Runtime sessions and the committed test models.</summary>
public sealed class InferenceHarness : IAsyncDisposable
{
    public const string Milling = "milling-machine";

    public static readonly string[] Ai4iFeatures =
        ["air_temperature_k", "process_temperature_k", "rotational_speed_rpm", "torque_nm", "tool_wear_min"];

    public static readonly DateTimeOffset WindowStart = new(2026, 11, 25, 1, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset WindowEnd = WindowStart.AddMinutes(1);

    public InferenceHarness(InferenceOptions? options = null, TimeProvider? time = null)
    {
        Options = options ?? new InferenceOptions { MaxBatchWaitMs = 0 };
        Time = time ?? TimeProvider.System;
        Telemetry = new InferenceTelemetry();
        Slots = new ModelSlots(Microsoft.Extensions.Options.Options.Create(Options), Time, Telemetry, Events, NullLoggerFactory.Instance);
        Policy = new DecisionPolicy(Slots, Fallback, Microsoft.Extensions.Options.Options.Create(Options), Time, Telemetry, NullLogger<DecisionPolicy>.Instance);
    }

    public static string Generated { get; } = Path.Combine(LocalDependencies.RepositoryRoot, "tests", "models", "generated");

    public InferenceOptions Options { get; }

    public TimeProvider Time { get; }

    public InferenceTelemetry Telemetry { get; }

    public TestFallbackDecider Fallback { get; } = new();

    public CollectingEventSink Events { get; } = new();

    public ModelSlots Slots { get; }

    public DecisionPolicy Policy { get; }

    public static string Model(string folder) => Path.Combine(Generated, folder);

    /// <summary>The golden inputs and expected first output value of a generated package.</summary>
    public static IReadOnlyList<(float[] Input, double Expected)> Golden(string folder, string output)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(Model(folder), "manifest.json")))!;
        var cases = new List<(float[], double)>();
        foreach (var c in manifest["goldenVectors"]!["cases"]!.AsArray())
        {
            var input = c!["input"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
            cases.Add((input, c["outputs"]![output]![0]!.GetValue<double>()));
        }

        return cases;
    }

    public DeploymentResult Deploy(string folder, string assetClass = Milling)
    {
        var result = Slots.Deploy(assetClass, Model(folder));
        return result;
    }

    public ValueTask<Decision> Decide(float[] features, string assetClass = Milling, string assetId = "mill-1", IReadOnlyList<string>? names = null) =>
        Policy.DecideAsync(Request(features, assetClass, assetId, names));

    public static DecisionRequest Request(float[] features, string assetClass = Milling, string assetId = "mill-1", IReadOnlyList<string>? names = null) =>
        new()
        {
            AssetId = assetId,
            AssetClass = assetClass,
            FeatureNames = names ?? Ai4iFeatures,
            FeatureValues = features,
            SensorValues = new Dictionary<string, double> { ["torque_nm"] = features.Length > 3 ? features[3] : 0 },
            WindowStart = WindowStart,
            WindowEnd = WindowEnd,
        };

    public async ValueTask DisposeAsync()
    {
        await Slots.DisposeAsync();
        Telemetry.Dispose();
    }
}
