using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MassTransit;

namespace PdM.Persistence;

/// <summary>
/// What a module's outbox may carry onto the bus: per contract type, its JSON shape and the stream a message belongs to
/// (rows of one stream go out in order). Written once per module, used when writing a row (a type without a route is
/// refused there, not discovered by the dispatcher) and when publishing it.
/// </summary>
public sealed class OutboxRoutes
{
    private readonly Dictionary<string, Route> _routes = new(StringComparer.Ordinal);
    private FrozenDictionary<string, Route>? _frozen;

    /// <summary>Messages of type <typeparamref name="T"/> are published as such, on the stream <paramref name="stream"/> names.</summary>
    public OutboxRoutes Publish<T>(JsonTypeInfo<T> type, Func<T, string> stream)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(stream);
        if (_frozen is not null)
        {
            throw new InvalidOperationException("outbox routes are fixed once used");
        }

        _routes.Add(typeof(T).Name, new Route(
            message => stream((T)message),
            (bus, json, messageId, cancellationToken) =>
            {
                var message = JsonSerializer.Deserialize(json, type) ?? throw new JsonException($"empty {typeof(T).Name} payload");
                return bus.Publish(message, context => context.MessageId = messageId, cancellationToken);
            }));
        return this;
    }

    /// <summary>A new pending row for <paramref name="message"/>; throws when <typeparamref name="T"/> has no route.</summary>
    public OutboxMessage Create<T>(T message, JsonTypeInfo<T> type, DateTimeOffset now)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(message);
        return OutboxMessage.Create(message, type, Find(typeof(T).Name).Stream(message), now);
    }

    internal bool TryPublish(string messageType, out Func<IBus, string, Guid, CancellationToken, Task> publish)
    {
        var found = Routes.TryGetValue(messageType, out var route);
        publish = route?.Publish!;
        return found;
    }

    private FrozenDictionary<string, Route> Routes => _frozen ??= _routes.ToFrozenDictionary(StringComparer.Ordinal);

    private Route Find(string messageType) => Routes.TryGetValue(messageType, out var route)
        ? route
        : throw new InvalidOperationException($"{messageType} has no outbox route: add one (OutboxRoutes.Publish) before writing it to the outbox");

    private sealed record Route(Func<object, string> Stream, Func<IBus, string, Guid, CancellationToken, Task> Publish);
}
