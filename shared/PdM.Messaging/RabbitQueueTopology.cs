using MassTransit;

namespace PdM.Messaging;

/// <summary>
/// How a module's or gateway's receive queue is declared on RabbitMQ (<c>Messaging:RabbitMq:QueueType</c>).
/// <para>
/// Quorum: <c>x-queue-type=quorum</c> (replicated by Raft across the cluster's nodes, so the queue and its messages
/// outlive a node), <c>x-delivery-limit</c> and a dead-letter exchange and queue <c>{queue}_dead-letter</c> (itself a
/// quorum queue) declared with the endpoint, so a message the broker stops redelivering is kept, not dropped.
/// Dead-lettering is at-least-once (<c>x-dead-letter-strategy</c>, which needs <c>x-overflow=reject-publish</c>): the
/// broker keeps the message until the dead-letter queue has confirmed it. MassTransit declares the endpoint's
/// <c>_error</c> and <c>_skipped</c> queues with the endpoint queue's arguments, so they are quorum queues too.
/// </para>
/// </summary>
public static class RabbitQueueTopology
{
    public const string DeadLetterSuffix = "_dead-letter";

    public static void Apply(IRabbitMqReceiveEndpointConfigurator endpoint, string queueName, RabbitMqOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        if (options.QueueType != RabbitQueueType.Quorum)
        {
            return;
        }

        endpoint.SetQuorumQueue(options.ReplicationFactor);
        endpoint.SetQueueArgument("x-delivery-limit", options.DeliveryLimit);
        endpoint.SetQueueArgument("x-dead-letter-strategy", "at-least-once");
        endpoint.SetQueueArgument("x-overflow", "reject-publish");
        var deadLetter = queueName + DeadLetterSuffix;
        endpoint.BindDeadLetterQueue(deadLetter, deadLetter, queue =>
        {
            queue.SetQuorumQueue(options.ReplicationFactor);
        });
    }
}
