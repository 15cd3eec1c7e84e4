namespace PdM.Maintenance.Persistence;

public enum OutboxKind
{
    /// <summary>Create or update the work order's record in its site's CMMS (payload: the canonical work order).</summary>
    Cmms = 0,

    /// <summary>Publish an event on the bus (payload: the message, <see cref="OutboxMessage.Destination"/> its type).</summary>
    Bus = 1,
}

public enum OutboxStatus
{
    Pending = 0,
    Delivered = 1,

    /// <summary>A newer snapshot of the same work order was delivered instead.</summary>
    Superseded = 2,

    /// <summary>Not retried: authentication or contract failure, or retries exhausted.</summary>
    Parked = 3,
}

/// <summary>
/// The module's transactional outbox (ARCHITECTURE D4): written in the same transaction as the case or work-order
/// change, delivered afterwards by <see cref="Outbox.OutboxDispatcher"/> with retries, backoff and a breaker per adapter.
/// </summary>
public sealed class OutboxMessage
{
    public long Id { get; set; }

    public OutboxKind Kind { get; set; }

    /// <summary>CMMS: the adapter endpoint key (site + system); bus: the message type name.</summary>
    public required string Destination { get; set; }

    public required string SiteId { get; set; }

    public Guid? WorkOrderId { get; set; }

    public required string PayloadJson { get; set; }

    public OutboxStatus Status { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }

    public string? LastError { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }
}
