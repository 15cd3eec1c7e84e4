using System.Globalization;
using Microsoft.Extensions.Options;

namespace PdM.Edge.Journal;

/// <summary>The gateway journal's settings (configuration section <c>Journal</c>), validated at start.</summary>
public sealed class JournalOptions
{
    public const string SectionName = "Journal";

    /// <summary>SQLite database file; relative paths start at the app's base directory. <c>-wal</c>, <c>-shm</c> and <c>.lock</c> sit beside it.</summary>
    public string Path { get; set; } = "journal/journal.db";

    /// <summary>
    /// Upper bound on the sum of the payload bytes held (not the file size: SQLite keeps freed pages for reuse, so the
    /// file lags deletes and would make the drop policy depend on page layout). Failure predictions may exceed it.
    /// </summary>
    public long QuotaBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How long each class is worth sending, counted from when it was appended; null means forever.</summary>
    public JournalTtlOptions Ttl { get; set; } = new();

    /// <summary>Backlog entries (appended before the uplink last recovered) handed out per second, next to all live entries.</summary>
    public double ReplayRatePerSecond { get; set; } = 2000;

    /// <summary>Backlog entries that may go at once after a quiet spell (token bucket depth).</summary>
    public int ReplayBurst { get; set; } = 200;

    /// <summary>Most operations (appends, leases, acknowledgements) committed in one SQLite transaction.</summary>
    public int MaxCommitBatch { get; set; } = 256;

    /// <summary>Largest <c>max</c> a caller may pass to <see cref="EdgeJournal.LeaseNextAsync"/>.</summary>
    public int MaxLeaseBatch { get; set; } = 500;

    /// <summary>Operations waiting for the writer before <see cref="EdgeJournal.AppendAsync"/> waits (back-pressure).</summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>A leased entry that is neither acknowledged nor released in this time is handed out again.</summary>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a journal operation waits while another connection holds SQLite's write lock (an operator's sqlite3, a
    /// backup tool) before it fails as a storage error, which the gateway logs and retries. SQLite's own default; whole
    /// seconds (rounded up).
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often expired entries are purged.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(1);

    public string ResolvePath() => System.IO.Path.GetFullPath(Path, AppContext.BaseDirectory);
}

/// <summary>Per-class time to live; null (an empty value in configuration) keeps entries of that class until sent.</summary>
public sealed class JournalTtlOptions
{
    /// <summary>None by default: a late alert is still an alert.</summary>
    public TimeSpan? FailurePrediction { get; set; }

    public TimeSpan? HealthAssessment { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan? FeatureBatch { get; set; } = TimeSpan.FromDays(3);

    public TimeSpan? Heartbeat { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan? For(MessageClass messageClass) => messageClass switch
    {
        MessageClass.FailurePrediction => FailurePrediction,
        MessageClass.HealthAssessment => HealthAssessment,
        MessageClass.FeatureBatch => FeatureBatch,
        MessageClass.Heartbeat => Heartbeat,
        _ => null,
    };
}

/// <summary>Rejects settings that would lose data silently or stall the uplink.</summary>
public sealed class JournalOptionsValidator : IValidateOptions<JournalOptions>
{
    public ValidateOptionsResult Validate(string? name, JournalOptions options)
    {
        var failures = Problems(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public static IReadOnlyList<string> Problems(JournalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            failures.Add("Journal:Path is required");
        }

        if (options.QuotaBytes < 4096)
        {
            failures.Add(Format("Journal:QuotaBytes must be at least 4096 (was {0})", options.QuotaBytes));
        }

        if (!double.IsFinite(options.ReplayRatePerSecond) || options.ReplayRatePerSecond <= 0)
        {
            failures.Add(Format("Journal:ReplayRatePerSecond must be a positive number (was {0})", options.ReplayRatePerSecond));
        }

        if (options.ReplayBurst < 1)
        {
            failures.Add(Format("Journal:ReplayBurst must be at least 1 (was {0})", options.ReplayBurst));
        }

        if (options.MaxCommitBatch is < 1 or > 100_000)
        {
            failures.Add(Format("Journal:MaxCommitBatch must be between 1 and 100000 (was {0})", options.MaxCommitBatch));
        }

        if (options.MaxLeaseBatch is < 1 or > 100_000)
        {
            failures.Add(Format("Journal:MaxLeaseBatch must be between 1 and 100000 (was {0})", options.MaxLeaseBatch));
        }

        if (options.QueueCapacity < 1)
        {
            failures.Add(Format("Journal:QueueCapacity must be at least 1 (was {0})", options.QueueCapacity));
        }

        if (options.LeaseTimeout <= TimeSpan.Zero)
        {
            failures.Add(Format("Journal:LeaseTimeout must be positive (was {0})", options.LeaseTimeout));
        }

        if (options.BusyTimeout < TimeSpan.FromSeconds(1) || options.BusyTimeout > TimeSpan.FromMinutes(10))
        {
            failures.Add(Format("Journal:BusyTimeout must be between 1 second and 10 minutes (was {0})", options.BusyTimeout));
        }

        if (options.PurgeInterval <= TimeSpan.Zero)
        {
            failures.Add(Format("Journal:PurgeInterval must be positive (was {0})", options.PurgeInterval));
        }

        if (options.Ttl is null)
        {
            failures.Add("Journal:Ttl is required");
        }
        else
        {
            foreach (var messageClass in Enum.GetValues<MessageClass>())
            {
                if (options.Ttl.For(messageClass) is { } ttl && ttl <= TimeSpan.Zero)
                {
                    failures.Add(Format("Journal:Ttl:{0} must be positive or empty for none (was {1})", messageClass, ttl));
                }
            }
        }

        return failures;
    }

    private static string Format(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
}
