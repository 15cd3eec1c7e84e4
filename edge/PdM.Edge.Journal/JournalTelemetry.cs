using System.Diagnostics.Metrics;

namespace PdM.Edge.Journal;

/// <summary>
/// Owns the journal's <see cref="Meter"/> (<c>PdM.Edge.Journal</c>). Tags are the message class and the drop reason,
/// both small fixed sets.
/// </summary>
public sealed class JournalTelemetry : IDisposable
{
    public const string MeterName = "PdM.Edge.Journal";

    /// <summary>An older entry evicted to make room under the quota.</summary>
    public const string ReasonQuota = "quota";

    /// <summary>A new entry refused because it did not fit under the quota.</summary>
    public const string ReasonRejected = "quota_rejected";

    /// <summary>An entry older than its class's TTL.</summary>
    public const string ReasonExpired = "expired";

    private static readonly KeyValuePair<string, object?>[] ClassTags = CreateClassTags();

    private readonly Meter _meter;
    private readonly Counter<long> _appended;
    private readonly Counter<long> _acknowledged;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _replayed;
    private readonly Counter<long> _quotaExceeded;
    private readonly Counter<long> _commits;
    private JournalIndex? _source;

    /// <summary>Creates the meter through <paramref name="meterFactory"/> when given (DI), else a standalone one.</summary>
    public JournalTelemetry(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _appended = _meter.CreateCounter<long>("pdm.journal.appended", "{entry}", "Entries committed to the journal, by class.");
        _acknowledged = _meter.CreateCounter<long>("pdm.journal.acknowledged", "{entry}",
            "Entries removed after the uplink's publisher confirm, by class.");
        _dropped = _meter.CreateCounter<long>("pdm.journal.dropped", "{entry}",
            "Entries lost without delivery, by class and reason (quota, quota_rejected, expired).");
        _replayed = _meter.CreateCounter<long>("pdm.journal.replayed", "{entry}", "Backlog entries handed to the uplink, by class.");
        _quotaExceeded = _meter.CreateCounter<long>("pdm.journal.quota_exceeded", "{entry}",
            "Failure predictions accepted although the quota was full (nothing else was left to evict).");
        _commits = _meter.CreateCounter<long>("pdm.journal.commits", "{transaction}", "SQLite transactions committed by the writer.");
        // Every class at 0 from the start: a replay is rare, and a dashboard must see "none yet", not "no such metric".
        foreach (var tag in ClassTags)
        {
            _replayed.Add(0, tag);
        }

        _meter.CreateObservableGauge("pdm.journal.backlog", ObserveBacklog, "{entry}", "Entries waiting for delivery, by class.");
        _meter.CreateObservableGauge("pdm.journal.bytes", ObserveBytes, "By", "Payload bytes held (what the quota counts).");
        _meter.CreateObservableGauge("pdm.journal.quota", ObserveQuota, "By", "The configured quota (Journal:QuotaBytes), to read pdm.journal.bytes against.");
        _meter.CreateObservableGauge("pdm.journal.oldest_age", ObserveOldestAge, "s",
            "Age of the oldest entry waiting for delivery, by class (the uplink's lag); 0 for an empty class.");
    }

    public void Dispose() => _meter.Dispose();

    internal void Attach(JournalIndex index) => Volatile.Write(ref _source, index);

    internal void Detach(JournalIndex index) => Interlocked.CompareExchange(ref _source, null, index);

    internal void Appended(MessageClass messageClass) => _appended.Add(1, ClassTags[(int)messageClass]);

    internal void Acknowledged(MessageClass messageClass) => _acknowledged.Add(1, ClassTags[(int)messageClass]);

    internal void Replayed(MessageClass messageClass) => _replayed.Add(1, ClassTags[(int)messageClass]);

    internal void Dropped(MessageClass messageClass, string reason, long count = 1) =>
        _dropped.Add(count, ClassTags[(int)messageClass], new KeyValuePair<string, object?>("reason", reason));

    internal void QuotaExceeded() => _quotaExceeded.Add(1);

    internal void Committed() => _commits.Add(1);

    private IEnumerable<Measurement<long>> ObserveBacklog()
    {
        var source = Volatile.Read(ref _source);
        if (source is null)
        {
            return [];
        }

        Span<long> counts = stackalloc long[MessageClasses.Count];
        source.CopyCounts(counts);
        var measurements = new Measurement<long>[MessageClasses.Count];
        for (var i = 0; i < measurements.Length; i++)
        {
            measurements[i] = new Measurement<long>(counts[i], ClassTags[i]);
        }

        return measurements;
    }

    private IEnumerable<Measurement<long>> ObserveBytes()
    {
        var source = Volatile.Read(ref _source);
        return source is null ? [] : [new Measurement<long>(source.Bytes)];
    }

    private IEnumerable<Measurement<long>> ObserveQuota()
    {
        var source = Volatile.Read(ref _source);
        return source is null ? [] : [new Measurement<long>(source.QuotaBytes)];
    }

    private IEnumerable<Measurement<double>> ObserveOldestAge()
    {
        var source = Volatile.Read(ref _source);
        if (source is null)
        {
            return [];
        }

        Span<long> appended = stackalloc long[MessageClasses.Count];
        source.CopyOldestAppended(appended);
        var now = source.UtcNowTicks();
        var measurements = new Measurement<double>[MessageClasses.Count];
        for (var i = 0; i < measurements.Length; i++)
        {
            var age = appended[i] == 0 ? 0 : Math.Max(0, now - appended[i]) / (double)TimeSpan.TicksPerSecond;
            measurements[i] = new Measurement<double>(age, ClassTags[i]);
        }

        return measurements;
    }

    private static KeyValuePair<string, object?>[] CreateClassTags()
    {
        var tags = new KeyValuePair<string, object?>[MessageClasses.Count];
        for (var i = 0; i < tags.Length; i++)
        {
            tags[i] = new KeyValuePair<string, object?>("class", MessageClasses.Tag((MessageClass)i));
        }

        return tags;
    }
}
