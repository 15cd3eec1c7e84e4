using System.Text.Json.Serialization;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Contracts.Telemetry;

namespace PdM.Contracts;

/// <summary>Source-generated System.Text.Json metadata for every payload we put on a wire.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TelemetryMessage))]
[JsonSerializable(typeof(FailurePredicted))]
[JsonSerializable(typeof(WorkOrderRaised))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;
