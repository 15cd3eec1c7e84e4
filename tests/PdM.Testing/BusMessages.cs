using System.Collections.Concurrent;
using MassTransit;

namespace PdM.Testing;

/// <summary>
/// What another module would receive over the bus: every message of the types a test collects
/// (<see cref="BusMessagesRegistration.Collect{T}"/>), in arrival order, with the message id it came under.
/// </summary>
public sealed class BusMessages
{
    private readonly ConcurrentDictionary<Type, object> _queues = new();

    /// <summary>The messages of type <typeparamref name="T"/> received so far (a live view: enumerate it again to see more).</summary>
    public IEnumerable<T> Of<T>()
        where T : class => Queue<T>().Select(received => received.Message);

    /// <summary>As <see cref="Of{T}"/>, each with the message id it was delivered under.</summary>
    public IEnumerable<ReceivedMessage<T>> WithIds<T>()
        where T : class => Queue<T>();

    internal void Add<T>(ReceivedMessage<T> received)
        where T : class => Queue<T>().Enqueue(received);

    private ConcurrentQueue<ReceivedMessage<T>> Queue<T>()
        where T : class => (ConcurrentQueue<ReceivedMessage<T>>)_queues.GetOrAdd(typeof(T), _ => new ConcurrentQueue<ReceivedMessage<T>>());
}

public sealed record ReceivedMessage<T>(Guid? MessageId, T Message);

/// <summary>Puts every <typeparamref name="T"/> it consumes into the host's <see cref="BusMessages"/>.</summary>
public sealed class CollectingConsumer<T>(BusMessages messages) : IConsumer<T>
    where T : class
{
    public Task Consume(ConsumeContext<T> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        messages.Add(new ReceivedMessage<T>(context.MessageId, context.Message));
        return Task.CompletedTask;
    }
}

public static class BusMessagesRegistration
{
    /// <summary>
    /// Subscribes the host to <typeparamref name="T"/> on an endpoint of its own, collecting into the
    /// <see cref="BusMessages"/> registered with the host's services.
    /// </summary>
    public static IBusRegistrationConfigurator Collect<T>(this IBusRegistrationConfigurator bus)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(bus);
        bus.AddConsumer<CollectingConsumer<T>>();
        return bus;
    }
}
