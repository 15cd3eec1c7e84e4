using System.ComponentModel.DataAnnotations;

namespace PdM.Persistence;

/// <summary>How a module's outbox is dispatched. Each module binds its own (its configuration keys predate this class).</summary>
public sealed class OutboxOptions : IValidatableObject
{
    /// <summary>Rows are looked for at least this often; a commit in this process wakes the dispatcher at once.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A publish the broker has not confirmed by then counts as failed and is retried (same message id).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First retry delay; doubles per failed attempt (with jitter) up to <see cref="MaxBackoff"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromMilliseconds(500);

    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Rows looked at per round.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 50;

    /// <summary>
    /// How long a replica's hold on the dispatcher lasts without renewal: after a replica dies this long passes before
    /// another takes over. Renewed well before it runs out, so it must exceed <see cref="PublishTimeout"/> amply.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Delivered rows are deleted this long after delivery; null keeps them.</summary>
    public TimeSpan? Retention { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LeaseDuration < 2 * PublishTimeout)
        {
            yield return new ValidationResult(
                $"LeaseDuration ({LeaseDuration}) must be at least twice PublishTimeout ({PublishTimeout}): the lease could run out during a publish",
                [nameof(LeaseDuration)]);
        }

        if (MaxBackoff < BackoffBase)
        {
            yield return new ValidationResult($"MaxBackoff ({MaxBackoff}) is below BackoffBase ({BackoffBase})", [nameof(MaxBackoff)]);
        }

        if (Retention < TimeSpan.Zero)
        {
            yield return new ValidationResult("Retention cannot be negative", [nameof(Retention)]);
        }
    }

    /// <summary>
    /// base · 2^(attempts-1), capped at <paramref name="max"/>, times a random 0.5..1: replicas or rows that failed together
    /// do not retry together, and the cap is never exceeded. One rule for the bus and for Maintenance's CMMS delivery.
    /// </summary>
    public static TimeSpan Backoff(int attempts, TimeSpan @base, TimeSpan max)
    {
        var doubled = @base.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        return TimeSpan.FromMilliseconds(Math.Min(doubled, max.TotalMilliseconds) * (0.5 + (Random.Shared.NextDouble() / 2)));
    }
}
