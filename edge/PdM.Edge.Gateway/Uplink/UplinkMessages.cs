using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using PdM.Contracts;
using PdM.Contracts.Decisions;
using PdM.Contracts.Edge;
using PdM.Contracts.Models;
using PdM.Contracts.Registry;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway.Egress;
using PdM.Edge.Journal;

namespace PdM.Edge.Gateway.Uplink;

/// <summary>
/// The events a gateway sends to the cloud, each with its journal class (which sets its priority, TTL and drop
/// policy), its data-egress class (what the site's policy allows by) and its JSON shape in the journal. One table, so a new event type cannot be journaled and then not sent.
/// </summary>
public static class UplinkMessages
{
    private static readonly Dictionary<Type, Kind> ByType = new()
    {
        [typeof(FailurePredicted)] = new(nameof(FailurePredicted), MessageClass.FailurePrediction, EgressClass.Decisions, ContractsJsonContext.Default.FailurePredicted),
        // An asset going offline is as urgent as a prediction and must never be dropped for quota.
        [typeof(AssetWentOffline)] = new(nameof(AssetWentOffline), MessageClass.FailurePrediction, EgressClass.Health, ContractsJsonContext.Default.AssetWentOffline),
        [typeof(AssetHealthAssessed)] = new(nameof(AssetHealthAssessed), MessageClass.HealthAssessment, EgressClass.Health, ContractsJsonContext.Default.AssetHealthAssessed),
        [typeof(ModelRolledBack)] = new(nameof(ModelRolledBack), MessageClass.HealthAssessment, EgressClass.ModelOperations, ContractsJsonContext.Default.ModelRolledBack),
        // A tampered package on a gateway's disk is a security event: never dropped for quota.
        [typeof(ModelIntegrityViolation)] = new(nameof(ModelIntegrityViolation), MessageClass.FailurePrediction, EgressClass.ModelOperations, ContractsJsonContext.Default.ModelIntegrityViolation),
        [typeof(ModelDriftDetected)] = new(nameof(ModelDriftDetected), MessageClass.HealthAssessment, EgressClass.ModelOperations, ContractsJsonContext.Default.ModelDriftDetected),
        [typeof(ShadowEvaluationReported)] = new(nameof(ShadowEvaluationReported), MessageClass.HealthAssessment, EgressClass.ModelOperations, ContractsJsonContext.Default.ShadowEvaluationReported),
        // The registry's record of what runs where depends on these: never dropped for quota, like predictions.
        [typeof(ModelDeploymentSucceeded)] = new(nameof(ModelDeploymentSucceeded), MessageClass.FailurePrediction, EgressClass.ModelOperations, RegistryJsonContext.Default.ModelDeploymentSucceeded),
        [typeof(ModelDeploymentFailed)] = new(nameof(ModelDeploymentFailed), MessageClass.FailurePrediction, EgressClass.ModelOperations, RegistryJsonContext.Default.ModelDeploymentFailed),
        // An operations event like a rollback: health traffic, evictable only after feature batches and heartbeats.
        [typeof(GatewaySheddingChanged)] = new(nameof(GatewaySheddingChanged), MessageClass.HealthAssessment, EgressClass.Health, ContractsJsonContext.Default.GatewaySheddingChanged),
        // The gateway's state: stale once a newer one exists, so evicted before health assessments and short-lived (Journal:Ttl:Heartbeat).
        [typeof(GatewayHeartbeat)] = new(nameof(GatewayHeartbeat), MessageClass.Heartbeat, EgressClass.Heartbeat, ContractsJsonContext.Default.GatewayHeartbeat),
        // Feature windows only feed training: the lowest class, the first the quota evicts.
        [typeof(FeatureWindowsCollected)] = new(nameof(FeatureWindowsCollected), MessageClass.FeatureBatch, EgressClass.FeatureBatches, FeatureStoreJsonContext.Default.FeatureWindowsCollected),
    };

    private static readonly Dictionary<string, Kind> ByName = ByType.Values.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>The message type names the uplink sends (a metric's tag values).</summary>
    public static IEnumerable<string> Names => ByName.Keys;

    /// <summary>
    /// The journal entry for <paramref name="message"/>. A caller that knows the event's type (the pipeline's stages)
    /// finds its row once per type, not per event; one holding an <c>object</c> is looked up by the runtime type.
    /// </summary>
    public static JournalAppend ToJournal<T>(T message, Guid messageId, DateTimeOffset originalTime)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(message);
        var kind = KindOf<T>.Value
            ?? (ByType.TryGetValue(message.GetType(), out var k)
                ? k
                : throw new ArgumentException($"{message.GetType().Name} is not an uplink message", nameof(message)));
        var payload = JsonSerializer.SerializeToUtf8Bytes(message, kind.TypeInfo);
        return new JournalAppend(kind.Class, kind.Name, "application/json", payload, originalTime, messageId);
    }

    /// <summary>The message a journal entry holds, or null for a type this build does not know (kept, logged).</summary>
    public static object? FromJournal(JournalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return ByName.TryGetValue(entry.MessageType, out var kind) ? JsonSerializer.Deserialize(entry.Payload.Span, kind.TypeInfo) : null;
    }

    /// <summary>The egress class of a journaled message type (<see cref="JournalAppend.MessageType"/>).</summary>
    public static EgressClass EgressClassOf(string messageType) =>
        ByName.TryGetValue(messageType, out var kind) ? kind.Egress : throw new ArgumentException($"{messageType} is not an uplink message", nameof(messageType));

    private sealed record Kind(string Name, MessageClass Class, EgressClass Egress, JsonTypeInfo TypeInfo);

    /// <summary>The row of <typeparamref name="T"/>, resolved on first use; null for a type not in the table (e.g. <c>object</c>).</summary>
    private static class KindOf<T>
    {
        public static readonly Kind? Value = ByType.GetValueOrDefault(typeof(T));
    }
}
