using System.Text.Json.Serialization;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>What goes to <c>pdm/{site}/_deadletter</c>: why a payload was refused, with an excerpt to debug the device.</summary>
public sealed record DeadLetterSample(string Reason, string Detail, string Topic, DateTimeOffset ReceivedAt, string PayloadExcerpt);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(DeadLetterSample))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
