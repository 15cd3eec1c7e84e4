using System.Text.Json.Serialization;

namespace PdM.Contracts.Registry;

/// <summary>Source-generated JSON for the registry events (outbox payloads and audit details).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ModelVersionRegistered))]
[JsonSerializable(typeof(ModelPromoted))]
[JsonSerializable(typeof(ModelDeploymentRequested))]
[JsonSerializable(typeof(ModelDeploymentSucceeded))]
[JsonSerializable(typeof(ModelDeploymentFailed))]
[JsonSerializable(typeof(RegisterTrainedModel))]
[JsonSerializable(typeof(ModelVersionRejected))]
public sealed partial class RegistryJsonContext : JsonSerializerContext;
