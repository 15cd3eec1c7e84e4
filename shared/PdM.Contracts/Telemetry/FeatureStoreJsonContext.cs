using System.Text.Json.Serialization;

namespace PdM.Contracts.Telemetry;

/// <summary>Source-generated JSON for the feature-store payloads (the gateway journals <see cref="FeatureWindowsCollected"/> with it).</summary>
[JsonSourceGenerationOptions(
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FeatureWindowsCollected))]
public sealed partial class FeatureStoreJsonContext : JsonSerializerContext;
