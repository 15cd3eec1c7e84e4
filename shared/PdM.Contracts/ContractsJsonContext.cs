using System.Text.Json.Serialization;
using PdM.Contracts.Decisions;
using PdM.Contracts.Edge;
using PdM.Contracts.Maintenance;
using PdM.Contracts.Models;
using PdM.Contracts.Telemetry;

namespace PdM.Contracts;

/// <summary>Source-generated System.Text.Json metadata for every payload we put on a wire.</summary>
[JsonSourceGenerationOptions(
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TelemetryMessage))]
[JsonSerializable(typeof(FailurePredicted))]
[JsonSerializable(typeof(DecisionProvenance))]
[JsonSerializable(typeof(IReadOnlyList<Evidence>))]
[JsonSerializable(typeof(WorkOrderRaised))]
[JsonSerializable(typeof(ModelRolledBack))]
[JsonSerializable(typeof(ModelIntegrityViolation))]
[JsonSerializable(typeof(ModelDriftDetected))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, double>))]
[JsonSerializable(typeof(ShadowEvaluationReported))]
[JsonSerializable(typeof(AssetHealthAssessed))]
[JsonSerializable(typeof(AssetWentOffline))]
[JsonSerializable(typeof(GatewayHeartbeat))]
[JsonSerializable(typeof(GatewaySheddingChanged))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;
