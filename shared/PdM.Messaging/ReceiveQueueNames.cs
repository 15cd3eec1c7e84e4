namespace PdM.Messaging;

/// <summary>
/// The RabbitMQ queues of the receive endpoints this process's bus configured (its modules' consumers), known once the
/// bus has been built: what <c>PdM.Host redeliver</c> looks behind for the <c>_error</c> and <c>_dead-letter</c> queues.
/// </summary>
public sealed class ReceiveQueueNames
{
    private readonly Lock _gate = new();
    private readonly SortedSet<string> _names = new(StringComparer.Ordinal);

    public IReadOnlyList<string> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _names];
            }
        }
    }

    internal void Add(string queue)
    {
        lock (_gate)
        {
            _names.Add(queue);
        }
    }
}
