using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace PdM.Messaging;

public enum MessageTransport
{
    /// <summary>MassTransit's in-memory transport: the all-in-one demo, nothing to install.</summary>
    InMemory = 0,

    /// <summary>RabbitMQ with publisher confirms: every real deployment.</summary>
    RabbitMq = 1,
}

/// <summary>Section <c>Messaging</c>.</summary>
public sealed class MessagingOptions : IValidatableObject
{
    public const string Section = "Messaging";

    public MessageTransport Transport { get; set; } = MessageTransport.InMemory;

    public RabbitMqOptions RabbitMq { get; set; } = new();

    /// <summary>
    /// Quick in-process retries (100 ms up to 10 s apart) of a consumer that fails for any reason other than a transient
    /// failure of a dependency, before the message goes to the _error queue.
    /// </summary>
    [Range(0, 20)]
    public int RetryLimit { get; set; } = 5;

    /// <summary>How long a consumer keeps retrying a transient dependency failure (a PostgreSQL restart).</summary>
    public TransientRetryOptions TransientRetry { get; set; } = new();

    /// <summary>
    /// How long one publisher's publishes must keep failing on a connected bus before <see cref="StalledPublishWatchdog"/>
    /// restarts the bus for new channels, and the least time between two restarts. Shorter restarts in the middle of a
    /// quorum queue's election (seconds), which a restart would only interrupt; longer keeps a wedged channel's
    /// predictions from their work orders for that long.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:05", "00:10:00")]
    public TimeSpan StalledPublishRestartAfter { get; set; } = StalledPublishWatchdog.DefaultStalledFor;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Transport == MessageTransport.RabbitMq && RabbitMq.Uri is null)
        {
            yield return new ValidationResult(
                "Messaging:RabbitMq:Uri is required when Messaging:Transport is RabbitMq (e.g. amqp://user:pass@host:5672/vhost)",
                [nameof(RabbitMq)]);
        }
    }
}

/// <summary>
/// Section <c>Messaging:TransientRetry</c>: the retry of a consumer whose dependency failed transiently (what a
/// registered <see cref="PdM.Hosting.TransientFailure"/> recognises: PostgreSQL down, restarting, refusing connections).
/// Retries are in process, exponential from <see cref="FirstInterval"/> up to <see cref="MaxInterval"/> apart, and the
/// message stays unacknowledged on its queue the whole time: a replica that dies meanwhile leaves it to the broker to
/// hand to another, and a PostgreSQL outage shorter than <see cref="Window"/> costs latency, never a message.
/// </summary>
public sealed class TransientRetryOptions : IValidatableObject
{
    /// <summary>
    /// RabbitMQ closes the channel of a consumer that holds a message longer than its <c>consumer_timeout</c> (30 min
    /// by default), which would redeliver every message on that channel: the window stays well below it.
    /// </summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromMinutes(20);

    [Range(0, 100)]
    public int Limit { get; set; } = 20;

    /// <summary>Roughly the first wait; each next one doubles (with ±20 % jitter) up to <see cref="MaxInterval"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan FirstInterval { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan MaxInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The nominal time from the first failure to the last retry (8 min with the defaults: 1, 2, 4, 8, 16, then 30 s
    /// apart); the longest PostgreSQL outage a consumed message outlasts before it goes to the _error queue.
    /// </summary>
    public TimeSpan Window
    {
        get
        {
            var total = TimeSpan.Zero;
            for (var i = 0; i < Limit; i++)
            {
                total += Interval(i);
            }

            return total;
        }
    }

    /// <summary>The nominal wait before retry <paramref name="attempt"/> (0-based), as MassTransit's exponential policy spaces them.</summary>
    public TimeSpan Interval(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(MassTransitMinInterval.TotalMilliseconds + Math.Pow(2, attempt) * FirstInterval.TotalMilliseconds, MaxInterval.TotalMilliseconds));

    /// <summary>MassTransit's exponential policy adds a fixed floor to every wait.</summary>
    internal static readonly TimeSpan MassTransitMinInterval = TimeSpan.FromMilliseconds(200);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Window > MaxWindow)
        {
            yield return new ValidationResult(
                string.Create(CultureInfo.InvariantCulture,
                    $"Messaging:TransientRetry holds a message for {Window.TotalMinutes:0.#} min; keep it under {MaxWindow.TotalMinutes:0} min ") +
                "(RabbitMQ's consumer_timeout closes the channel of a consumer that holds a message for 30 min)",
                [nameof(Limit), nameof(MaxInterval)]);
        }
    }
}

/// <summary>Section <c>Messaging:RabbitMq</c>.</summary>
public sealed class RabbitMqOptions : IValidatableObject
{
    /// <summary><c>amqp://user:password@host:port/vhost</c>; the vhost is the path ("/" when empty).</summary>
    public Uri? Uri { get; set; }

    /// <summary>Messages fetched ahead per consumer.</summary>
    [Range(1, 10_000)]
    public int PrefetchCount { get; set; } = 32;

    /// <summary>
    /// Every node of a RabbitMQ cluster as <c>host:port</c> (the <see cref="Uri"/>'s host is one of them). The
    /// connection goes to the first that answers and moves to another when its node dies. Empty: the URI's host only.
    /// </summary>
    public List<string> ClusterNodes { get; set; } = [];

    /// <summary>
    /// The type of every queue the modules and gateways consume from. <see cref="RabbitQueueType.Quorum"/> (the default)
    /// is replicated across the cluster and survives a node; it works on a single node too. A queue's type is fixed
    /// when it is declared: switching an existing deployment means deleting (draining) its queues first.
    /// </summary>
    public RabbitQueueType QueueType { get; set; } = RabbitQueueType.Quorum;

    /// <summary>
    /// Quorum queues only: how many times the broker hands a message out before it gives up on it and dead-letters it
    /// to <c>{queue}_dead-letter</c> (a consumer that dies or loses its connection mid-message counts; MassTransit's
    /// in-process retries do not). It ends a poison message that crashes every replica in turn.
    /// </summary>
    [Range(1, 1_000)]
    public int DeliveryLimit { get; set; } = 10;

    /// <summary>
    /// Quorum queues only: how many nodes hold a replica of each new queue; unset means the broker's default (every
    /// node, up to its limit). Use an odd number: a queue is available while a majority of its replicas is.
    /// </summary>
    [Range(1, 99)]
    public int? ReplicationFactor { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Uri is not null && Uri.Scheme is not ("amqp" or "amqps" or "rabbitmq" or "rabbitmqs"))
        {
            yield return new ValidationResult($"Messaging:RabbitMq:Uri has scheme '{Uri.Scheme}'; expected amqp or amqps", [nameof(Uri)]);
        }

        foreach (var node in ClusterNodes)
        {
            if (!RabbitMqEndpoint.TryParseNode(node, out _, out _))
            {
                yield return new ValidationResult($"Messaging:RabbitMq:ClusterNodes has '{node}'; expected host:port", [nameof(ClusterNodes)]);
            }
        }
    }
}

public enum RabbitQueueType
{
    /// <summary>Replicated (Raft) queues with a delivery limit and a dead-letter queue: the default.</summary>
    Quorum = 0,

    /// <summary>Classic queues on one node: for a broker that cannot run quorum queues, or queues declared before.</summary>
    Classic = 1,
}
