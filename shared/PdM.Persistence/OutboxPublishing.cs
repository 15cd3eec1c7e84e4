using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MassTransit;

namespace PdM.Persistence;

/// <summary>
/// What every module's outbox dispatcher does the same way: a row's message id, stable across attempts (so an attempt
/// that reached the broker and its retry are one message to the consumers' inboxes), and publishing a row's JSON
/// payload under that id. Ordering, locking and backoff stay with each module's dispatcher.
/// </summary>
public static class OutboxPublishing
{
    /// <summary><c>SHA-256("{outbox}:{rowId}")</c>, first 16 bytes, as a GUID.</summary>
    public static Guid MessageId(string outbox, long rowId) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{outbox}:{rowId}"))).AsSpan(0, 16));

    /// <summary>Deserializes <paramref name="payloadJson"/> as <typeparamref name="T"/> and publishes it with <paramref name="messageId"/>.</summary>
    public static Task Publish<T>(IBus bus, string payloadJson, JsonTypeInfo<T> type, Guid messageId, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(bus);
        var message = JsonSerializer.Deserialize(payloadJson, type) ?? throw new InvalidOperationException($"empty {typeof(T).Name} payload in the outbox");
        return bus.Publish(message, context => context.MessageId = messageId, cancellationToken);
    }
}
