namespace PdM.Edge.Gateway.Uplink;

/// <summary>
/// Per message type, how long the uplink leaves alone the journal entries RabbitMQ returned as unroutable (no queue
/// bound to the type's exchange yet: no consumer was ever started for it). Routing is a property of the exchange, so
/// the wait is per type: the first return waits <see cref="First"/>, each further one twice as long up to
/// <see cref="Max"/>, and the first confirmed delivery of the type ends it. Entries of a waiting type are not published
/// at all until the wait is over, so a gateway without consumers publishes at most one lease of each type per wait
/// instead of spinning on returns. Used by the uplink loop only (not thread-safe).
/// </summary>
public sealed class UnroutableBackoff
{
    public static readonly TimeSpan First = TimeSpan.FromSeconds(1);

    // The longest an event stays undelivered after its queue appears; also bounds the publishes of a type nobody
    // consumes to one lease per this period.
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, (TimeSpan Delay, DateTimeOffset Until)> _waiting = new(StringComparer.Ordinal);

    /// <summary>True while <paramref name="messageType"/> waits after a return; <paramref name="remaining"/> is what is left of the wait.</summary>
    public bool IsWaiting(string messageType, DateTimeOffset now, out TimeSpan remaining)
    {
        if (_waiting.TryGetValue(messageType, out var wait) && wait.Until > now)
        {
            remaining = wait.Until - now;
            return true;
        }

        remaining = TimeSpan.Zero;
        return false;
    }

    /// <summary>The broker returned entries of <paramref name="messageType"/>: the next wait, doubled from the previous one.</summary>
    public TimeSpan Returned(string messageType, DateTimeOffset now)
    {
        var delay = _waiting.TryGetValue(messageType, out var previous)
            ? TimeSpan.FromTicks(Math.Min(previous.Delay.Ticks * 2, Max.Ticks))
            : First;
        _waiting[messageType] = (delay, now + delay);
        return delay;
    }

    /// <summary>An entry of <paramref name="messageType"/> was confirmed: routable again. True when it had been returned before.</summary>
    public bool Delivered(string messageType) => _waiting.Remove(messageType);
}
