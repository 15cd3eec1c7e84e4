using System.ComponentModel.DataAnnotations;

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

    /// <summary>Immediate redeliveries of a failing message before it goes to the _error queue.</summary>
    [Range(0, 20)]
    public int RetryLimit { get; set; } = 5;

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

/// <summary>Section <c>Messaging:RabbitMq</c>.</summary>
public sealed class RabbitMqOptions : IValidatableObject
{
    /// <summary><c>amqp://user:password@host:port/vhost</c>; the vhost is the path ("/" when empty).</summary>
    public Uri? Uri { get; set; }

    /// <summary>Messages fetched ahead per consumer.</summary>
    [Range(1, 10_000)]
    public int PrefetchCount { get; set; } = 32;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Uri is not null && Uri.Scheme is not ("amqp" or "amqps" or "rabbitmq" or "rabbitmqs"))
        {
            yield return new ValidationResult($"Messaging:RabbitMq:Uri has scheme '{Uri.Scheme}'; expected amqp or amqps", [nameof(Uri)]);
        }
    }
}
