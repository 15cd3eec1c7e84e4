using System.Text.Json.Serialization;

namespace PdM.Contracts.Training;

/// <summary>Source-generated JSON for the training command and events (HTTP body and stored run request).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TrainModel))]
[JsonSerializable(typeof(TrainingRunProgressed))]
[JsonSerializable(typeof(TrainingRunCompleted))]
public sealed partial class TrainingContractsJsonContext : JsonSerializerContext;
