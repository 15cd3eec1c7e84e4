using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using PdM.Telemetry.Persistence;

namespace PdM.Telemetry.Outbox;

/// <summary>
/// Adds a message to the caller's <see cref="TelemetryDbContext"/>: it commits with the caller's next
/// <c>SaveChanges</c> (one transaction with the state change), then <see cref="Wake"/> sends the dispatcher after it.
/// The type name is the routing key the dispatcher publishes by (<see cref="TelemetryOutboxDispatcher"/> knows each one).
/// </summary>
public sealed class TelemetryOutbox
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public static void Add<T>(TelemetryDbContext db, T message, JsonTypeInfo<T> type, DateTimeOffset now)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(message);
        if (!TelemetryOutboxDispatcher.Publishes(typeof(T).Name))
        {
            throw new InvalidOperationException($"{typeof(T).Name} has no publisher in {nameof(TelemetryOutboxDispatcher)}: add one before writing it to the outbox");
        }

        db.Outbox.Add(new TelemetryOutboxMessage
        {
            MessageType = typeof(T).Name,
            PayloadJson = JsonSerializer.Serialize(message, type),
            CreatedAt = now,
            NextAttemptAt = now,
        });
    }

    /// <summary>Call after the commit; several calls before the dispatcher runs make one wake-up.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Returns when woken or after <paramref name="timeout"/>, whichever is first.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        poll.CancelAfter(timeout);
        try
        {
            await _wake.Reader.ReadAsync(poll.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The poll interval passed without a wake-up: look anyway (rows due for a retry).
        }
    }
}
