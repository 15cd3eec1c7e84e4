using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace PdM.Persistence;

public enum OutboxStatus
{
    Pending = 0,
    Delivered = 1,

    /// <summary>A newer row of the same stream made this one pointless (Maintenance: a newer work-order snapshot).</summary>
    Superseded = 2,

    /// <summary>Not retried: retrying cannot fix it (no route, unreadable payload, a CMMS refusing the contract).</summary>
    Parked = 3,
}

/// <summary>
/// One row of a module's transactional outbox (table <c>outbox</c> in the module's schema): added to the module's
/// <c>DbContext</c> so it commits with the change it announces, delivered afterwards by <see cref="OutboxDispatcher{TContext}"/>.
/// </summary>
public sealed class OutboxMessage
{
    /// <summary>Order within a <see cref="Stream"/> (identity, so commit order for rows written one transaction after another).</summary>
    public long Id { get; set; }

    /// <summary>
    /// The bus message id of every attempt, so an attempt that reached the broker and its retry are one message to the
    /// consumers' inboxes. A UUIDv7 stored with the row, never derived from <see cref="Id"/>: after a database restore
    /// the identity hands out old numbers again, and an id derived from them would be dropped as a duplicate forever.
    /// </summary>
    public Guid MessageId { get; set; }

    /// <summary>Rows of one stream are delivered in <see cref="Id"/> order; a row waiting for a retry holds back only its stream.</summary>
    public required string Stream { get; set; }

    /// <summary>The contract's type name for a bus message, or the name of the module's own handler (e.g. <c>cmms</c>).</summary>
    public required string MessageType { get; set; }

    public required string PayloadJson { get; set; }

    public OutboxStatus Status { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }

    public string? LastError { get; set; }

    /// <summary>
    /// W3C <c>traceparent</c> of the span the row was written in (e.g. Maintenance handling a prediction), or null
    /// when nothing was traced: the delivery, however late or often retried, continues that trace.
    /// </summary>
    public string? TraceParent { get; set; }

    /// <summary>W3C <c>tracestate</c> belonging to <see cref="TraceParent"/>, or null.</summary>
    public string? TraceState { get; set; }

    /// <summary>A bus message of type <typeparamref name="T"/> on <paramref name="stream"/>, due at once.</summary>
    public static OutboxMessage Create<T>(T message, JsonTypeInfo<T> type, string stream, DateTimeOffset now)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(message);
        return Create(typeof(T).Name, JsonSerializer.Serialize(message, type), stream, now);
    }

    /// <summary>A row for the handler named <paramref name="messageType"/> (or a bus type), due at once.</summary>
    public static OutboxMessage Create(string messageType, string payloadJson, string stream, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(messageType);
        ArgumentException.ThrowIfNullOrWhiteSpace(stream);
        ArgumentNullException.ThrowIfNull(payloadJson);
        var trace = Activity.Current;
        return new OutboxMessage
        {
            TraceParent = trace?.IdFormat == ActivityIdFormat.W3C ? trace.Id : null,
            TraceState = trace?.IdFormat == ActivityIdFormat.W3C ? trace.TraceStateString : null,
            MessageId = Guid.CreateVersion7(now),
            Stream = stream,
            MessageType = messageType,
            PayloadJson = payloadJson,
            CreatedAt = now,
            NextAttemptAt = now,
        };
    }

    public void MarkDelivered(DateTimeOffset now)
    {
        Status = OutboxStatus.Delivered;
        DeliveredAt = now;
        LastError = null;
    }

    public void MarkSuperseded(DateTimeOffset now)
    {
        Status = OutboxStatus.Superseded;
        DeliveredAt = now;
    }

    public void Park(string error)
    {
        Status = OutboxStatus.Parked;
        LastError = ColumnText.Clip(error, OutboxModel.MaxErrorLength);
    }

    /// <summary>Stays pending; tried again at <paramref name="nextAttemptAt"/>. Does not count an attempt (the caller does).</summary>
    public void RetryAt(DateTimeOffset nextAttemptAt, string error)
    {
        NextAttemptAt = nextAttemptAt;
        LastError = ColumnText.Clip(error, OutboxModel.MaxErrorLength);
    }
}

/// <summary>
/// One row per message a consumer has handled (table <c>inbox</c> in the module's schema), written in the same
/// transaction as the effect, so a redelivered message has no second effect. Written through <see cref="Inbox"/>.
/// </summary>
public sealed class InboxMessage
{
    public Guid MessageId { get; set; }

    public required string Consumer { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>
/// Who runs a module's outbox dispatcher (table <c>outbox_lease</c>, one row): the holder renews it while alive; when it
/// stops renewing (killed, frozen, cut off) the lease expires and another replica takes over.
/// </summary>
public sealed class OutboxLease
{
    public required string Name { get; set; }

    public required string Holder { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
}
