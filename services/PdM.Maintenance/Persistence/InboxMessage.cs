namespace PdM.Maintenance.Persistence;

/// <summary>
/// One row per message a consumer has processed, written in the same transaction as the effect, so a redelivered
/// message (broker retry, gateway replay) has exactly one effect.
/// </summary>
public sealed class InboxMessage
{
    public Guid MessageId { get; set; }

    public required string Consumer { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }
}
