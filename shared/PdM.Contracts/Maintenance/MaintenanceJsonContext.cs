using System.Text.Json.Serialization;

namespace PdM.Contracts.Maintenance;

/// <summary>Source-generated JSON for the Maintenance payloads: the canonical work order and the maintenance events.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CanonicalWorkOrder))]
[JsonSerializable(typeof(WorkOrderRaised))]
[JsonSerializable(typeof(MaintenanceCaseEscalated))]
[JsonSerializable(typeof(MaintenanceOutcomeRecorded))]
[JsonSerializable(typeof(IReadOnlyList<Guid>))]
public sealed partial class MaintenanceJsonContext : JsonSerializerContext;
