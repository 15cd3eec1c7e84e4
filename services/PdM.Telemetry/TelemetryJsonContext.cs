using System.Text.Json.Serialization;
using PdM.Telemetry.Api;

namespace PdM.Telemetry;

/// <summary>Source-generated JSON for what this module stores as JSON and serves over HTTP.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Dictionary<string, double>))]
[JsonSerializable(typeof(TrainingRunResponse))]
[JsonSerializable(typeof(SnapshotResponse))]
[JsonSerializable(typeof(TrainRunRequest))]
[JsonSerializable(typeof(CreateSnapshotRequest))]
[JsonSerializable(typeof(DatasetImportResponse))]
internal sealed partial class TelemetryJsonContext : JsonSerializerContext;
