using MassTransit;
using PdM.Contracts.Telemetry;
using PdM.Telemetry.Store;

namespace PdM.Telemetry.Consumers;

/// <summary>Gateway feature batches into the store (see <see cref="FeatureStore"/>: inbox-idempotent, binary COPY).</summary>
public sealed class FeatureWindowsCollectedConsumer(FeatureStore store) : IConsumer<FeatureWindowsCollected>
{
    public const string ConsumerName = "telemetry.feature-windows-collected";

    public Task Consume(ConsumeContext<FeatureWindowsCollected> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var messageId = context.MessageId ?? context.Message.BatchId;
        return store.StoreAsync(context.Message, messageId, ConsumerName, context.CancellationToken);
    }
}
