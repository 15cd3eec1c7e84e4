namespace PdM.Cmms.Stubs;

public enum StubFaultKind
{
    /// <summary>429 with <c>Retry-After</c>.</summary>
    TooManyRequests = 0,

    /// <summary>503, as a CMMS behind a gateway does during maintenance.</summary>
    ServiceUnavailable = 1,

    /// <summary>The write is carried out, then the connection is dropped before any response: a crash between send and ack.</summary>
    DropAfterAccept = 2,
}

/// <summary>Scripted faults for the next requests of one stub tenant. Drop faults wait for the next write.</summary>
public sealed class StubFaults
{
    private readonly Queue<(StubFaultKind Kind, TimeSpan RetryAfter)> _queue = new();

    public void Enqueue(StubFaultKind kind, int count = 1, TimeSpan? retryAfter = null)
    {
        lock (_queue)
        {
            for (var i = 0; i < count; i++)
            {
                _queue.Enqueue((kind, retryAfter ?? TimeSpan.FromSeconds(1)));
            }
        }
    }

    public int Pending
    {
        get
        {
            lock (_queue)
            {
                return _queue.Count;
            }
        }
    }

    public void Clear()
    {
        lock (_queue)
        {
            _queue.Clear();
        }
    }

    internal (StubFaultKind Kind, TimeSpan RetryAfter)? Take(bool isWrite)
    {
        lock (_queue)
        {
            if (_queue.Count == 0 || (_queue.Peek().Kind == StubFaultKind.DropAfterAccept && !isWrite))
            {
                return null;
            }

            return _queue.Dequeue();
        }
    }
}

/// <summary>Body of the control endpoints <c>POST …/_stub/{system}/faults</c>.</summary>
public sealed record FaultRequest(StubFaultKind Kind, int Count = 1, double RetryAfterSeconds = 1);
