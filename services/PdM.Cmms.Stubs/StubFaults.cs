using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace PdM.Cmms.Stubs;

public enum StubFaultKind
{
    /// <summary>429 with <c>Retry-After</c>.</summary>
    TooManyRequests = 0,

    /// <summary>503, as a CMMS behind a gateway does during maintenance.</summary>
    ServiceUnavailable = 1,

    /// <summary>The write is carried out, then the connection is dropped before any response: a crash between send and ack.</summary>
    DropAfterAccept = 2,

    /// <summary>
    /// The write is carried out only after the fault's <c>RetryAfter</c>, however long the client waits: a CMMS slower than
    /// the client's timeout, whose record appears after the client gave up on it (then answered, if anyone still listens).
    /// </summary>
    SlowAccept = 3,

    /// <summary>
    /// A proxy in front of the CMMS answers 504 at once; the CMMS behind it carries the write out only after the fault's
    /// <c>RetryAfter</c>: the client is told the gateway gave up on a record that appears afterwards.
    /// </summary>
    GatewayTimeoutThenAccept = 4,
}

/// <summary>Scripted faults for the next requests of one stub tenant. Faults about a write (drop, slow accept, gateway timeout) wait for the next write.</summary>
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
            if (_queue.Count == 0 || (_queue.Peek().Kind is StubFaultKind.DropAfterAccept or StubFaultKind.SlowAccept or StubFaultKind.GatewayTimeoutThenAccept && !isWrite))
            {
                return null;
            }

            return _queue.Dequeue();
        }
    }

    /// <summary>Maps <c>POST {control}/faults</c> (a <see cref="FaultRequest"/>): scripts faults for the calling tenant's next requests.</summary>
    internal static void MapFaultsEndpoint(IEndpointRouteBuilder control, Func<HttpContext, StubFaults> tenantFaults) =>
        control.MapPost("/faults", (HttpContext context, FaultRequest fault) =>
        {
            tenantFaults(context).Enqueue(fault.Kind, fault.Count, TimeSpan.FromSeconds(fault.RetryAfterSeconds));
            return Results.NoContent();
        });

    /// <summary>
    /// Answers a 429 (with <c>Retry-After</c>) or 503 fault with the stub's own error body; false when <paramref name="fault"/>
    /// is none of those (no fault, or a drop that waits for the write to be carried out).
    /// </summary>
    internal static async Task<bool> AnswerAsync(
        HttpContext context, (StubFaultKind Kind, TimeSpan RetryAfter)? fault, Func<Task> tooManyRequests, Func<Task> unavailable)
    {
        switch (fault?.Kind)
        {
            case StubFaultKind.TooManyRequests:
                context.Response.Headers.RetryAfter = Math.Max(0, (int)Math.Ceiling(fault.Value.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await tooManyRequests();
                return true;
            case StubFaultKind.ServiceUnavailable:
                await unavailable();
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Before a write is carried out: a <see cref="StubFaultKind.SlowAccept"/> fault holds it for the fault's duration, a
    /// <see cref="StubFaultKind.GatewayTimeoutThenAccept"/> fault first answers 504 as a proxy's own page. Not on the
    /// request's token: a CMMS does not notice that its client went away before it has done the work.
    /// </summary>
    internal static async Task HoldAsync(HttpContext context, (StubFaultKind Kind, TimeSpan RetryAfter)? fault)
    {
        if (fault?.Kind == StubFaultKind.GatewayTimeoutThenAccept)
        {
            // The client's next request must not queue behind this one on the same connection: through a proxy it
            // would reach the CMMS on another connection while this write still runs.
            context.Response.Headers.Connection = "close";
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            context.Response.ContentType = "text/html";
            await context.Response.WriteAsync("<html><head><title>504 Gateway Time-out</title></head><body><h1>Gateway Time-out</h1></body></html>");
            await context.Response.CompleteAsync();
        }

        if (fault?.Kind is StubFaultKind.SlowAccept or StubFaultKind.GatewayTimeoutThenAccept)
        {
            await Task.Delay(fault.Value.RetryAfter, CancellationToken.None);
        }
    }

    /// <summary>
    /// After a write was carried out: a <see cref="StubFaultKind.DropAfterAccept"/> fault drops the connection before any
    /// response (the record exists, the client never hears so). True when it did, or when the answer went out before
    /// the write was carried out (<see cref="StubFaultKind.GatewayTimeoutThenAccept"/>): nothing more is to be answered.
    /// </summary>
    internal static bool DropAfterAccept(HttpContext context, (StubFaultKind Kind, TimeSpan RetryAfter)? fault)
    {
        if (context.Response.HasStarted)
        {
            return true;
        }

        if (fault?.Kind != StubFaultKind.DropAfterAccept)
        {
            return false;
        }

        context.Abort();
        return true;
    }
}

/// <summary>Body of the control endpoints <c>POST …/_stub/{system}/faults</c>.</summary>
public sealed record FaultRequest(StubFaultKind Kind, int Count = 1, double RetryAfterSeconds = 1);
