using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdM.ModelPackage;

/// <summary>
/// manifest.json of a model package: what the model is, which features it reads (the PdM.Features spec travels
/// with it), what its outputs mean, how they turn into decisions, what its training data looked like, golden
/// vectors that must reproduce, and where it came from. See README.md for the format.
/// </summary>
public sealed record ModelManifest
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    public required string Name { get; init; }

    /// <summary>Semantic version (major.minor.patch, optional -prerelease and +build).</summary>
    public required string Version { get; init; }

    /// <summary>The asset class the model scores (one production model per class at a time).</summary>
    public required string AssetClass { get; init; }

    /// <summary>The PdM.Features spec JSON as written in the manifest; parsed into <see cref="ModelPackageLoadResult"/>.</summary>
    public required JsonElement FeatureSpec { get; init; }

    public required ModelInputSpec Input { get; init; }

    public required IReadOnlyList<ModelOutputSpec> Outputs { get; init; }

    public required DecisionThresholds Thresholds { get; init; }

    /// <summary>
    /// The ISO 14224 failure-mode code (e.g. <c>PDE</c>, <c>BRD</c>, <c>VIB</c>) the model predicts when it has no
    /// failure-mode class output: a RUL or failure-probability model says <em>when</em>, and this says <em>what</em>,
    /// so its Alert and Danger decisions can become work orders. Ignored for a row a failureModeClass output labels.
    /// </summary>
    public string? FailureMode { get; init; }

    /// <summary>One entry per feature, in feature-spec order: the training distribution for out-of-distribution checks.</summary>
    public required IReadOnlyList<FeatureStatistics> FeatureStatistics { get; init; }

    /// <summary>
    /// Per feature, in feature-spec order, the training histogram over quantile bins: what the gateway's drift monitor
    /// compares the scored rows with. Optional: a package written before it existed loads, and is not drift-monitored.
    /// </summary>
    public TrainingDistribution? TrainingDistribution { get; init; }

    public required GoldenVectorSet GoldenVectors { get; init; }

    public required ModelProvenance Provenance { get; init; }

    /// <summary>manifest.json as the loader reads it (camelCase, nulls omitted, indented).</summary>
    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, ModelManifestJsonContext.Default.ModelManifest);
}

/// <summary>The single float input: <c>shape</c> is <c>[-1, F]</c> (dynamic batch, F = feature count).</summary>
public sealed record ModelInputSpec
{
    public required string Name { get; init; }

    public required IReadOnlyList<long> Shape { get; init; }

    public TensorElementKind ElementType { get; init; } = TensorElementKind.Float32;
}

public sealed record ModelOutputSpec
{
    public required string Name { get; init; }

    public required OutputMeaning Meaning { get; init; }

    public TensorElementKind ElementType { get; init; } = TensorElementKind.Float32;

    /// <summary>Class names, in the order of the probability columns (<see cref="OutputMeaning.FailureModeClass"/>).</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>The class that means "no failure"; failure probability = 1 − its probability.</summary>
    public string? NormalClass { get; init; }
}

[JsonConverter(typeof(JsonStringEnumConverter<OutputMeaning>))]
public enum OutputMeaning
{
    /// <summary>Remaining useful life in cycles, shape [N] or [N, 1].</summary>
    [JsonStringEnumMemberName("rulCycles")]
    RulCycles,

    /// <summary>Remaining useful life in hours, shape [N] or [N, 1].</summary>
    [JsonStringEnumMemberName("rulHours")]
    RulHours,

    /// <summary>Probability of failure within the model's horizon, shape [N] or [N, 1].</summary>
    [JsonStringEnumMemberName("failureProbability")]
    FailureProbability,

    /// <summary>Class probabilities, shape [N, C], columns in <see cref="ModelOutputSpec.Classes"/> order.</summary>
    [JsonStringEnumMemberName("failureModeClass")]
    FailureModeClass,

    /// <summary>A predicted label; informative only, decisions use the probabilities.</summary>
    [JsonStringEnumMemberName("label")]
    Label,
}

[JsonConverter(typeof(JsonStringEnumConverter<TensorElementKind>))]
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "These are the ONNX element type names.")]
public enum TensorElementKind
{
    [JsonStringEnumMemberName("float32")]
    Float32,

    [JsonStringEnumMemberName("int64")]
    Int64,
}

/// <summary>
/// How outputs become a health state. Probability: ≥ watch → Watch, ≥ alert → Alert, ≥ danger → Danger.
/// RUL: ≤ watch → Watch, ≤ alert → Alert, ≤ danger → Danger. Unset levels are skipped.
/// </summary>
public sealed record DecisionThresholds
{
    public double? FailureProbabilityWatch { get; init; }

    public double? FailureProbabilityAlert { get; init; }

    public double? FailureProbabilityDanger { get; init; }

    public double? RulWatch { get; init; }

    public double? RulAlert { get; init; }

    public double? RulDanger { get; init; }
}

public sealed record FeatureStatistics
{
    public required string Name { get; init; }

    public required double Min { get; init; }

    public required double Max { get; init; }

    public required double Mean { get; init; }

    public required double Std { get; init; }
}

/// <summary>Inputs with the outputs the model must reproduce within <see cref="Tolerance"/> (absolute).</summary>
public sealed record GoldenVectorSet
{
    public required double Tolerance { get; init; }

    public required IReadOnlyList<GoldenVectorCase> Cases { get; init; }
}

public sealed record GoldenVectorCase
{
    public required IReadOnlyList<float> Input { get; init; }

    /// <summary>Output name → expected flattened values for this one row.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<double>> Outputs { get; init; }
}

public sealed record ModelProvenance
{
    public required string TrainingRun { get; init; }

    /// <summary>Digest of the dataset snapshot the model was trained on (e.g. <c>sha256:…</c>).</summary>
    public required string DatasetDigest { get; init; }

    public required string CreatedBy { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    NumberHandling = JsonNumberHandling.Strict,
    WriteIndented = true)]
[JsonSerializable(typeof(ModelManifest))]
internal sealed partial class ModelManifestJsonContext : JsonSerializerContext;
