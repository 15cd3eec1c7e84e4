using System.ComponentModel.DataAnnotations;

namespace PdM.Telemetry.Outbox;

/// <summary>Section <c>TelemetryOutbox</c>: how the module's events leave its outbox table.</summary>
public sealed class TelemetryOutboxOptions
{
    public const string Section = "TelemetryOutbox";

    /// <summary>Rows are looked for at least this often; a commit wakes the dispatcher at once.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A publish the broker has not confirmed by then counts as failed and is retried (same message id).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First retry delay; doubles per failed attempt (with jitter) up to <see cref="MaxBackoff"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromMilliseconds(500);

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Published rows (registrations carry whole packages) are deleted this long after publishing.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(1);
}
