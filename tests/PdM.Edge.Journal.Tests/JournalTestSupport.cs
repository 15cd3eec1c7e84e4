using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using PdM.Edge.Journal;

namespace PdM.Edge.Journal.Tests;

/// <summary>A private folder per test, deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "pdm-journal-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Database => System.IO.Path.Combine(Path, "journal.db");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A child process killed a moment ago may still hold a file for a few milliseconds; /tmp is cleaned anyway.
        }
    }
}

/// <summary>Collects the journal's counters from one meter factory only, so parallel tests do not mix.</summary>
internal sealed class JournalMetrics : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _totals = [];

    public JournalMetrics()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = _services.GetRequiredService<IMeterFactory>();
        Telemetry = new JournalTelemetry(factory);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = instrument.Name;
            foreach (var tag in tags)
            {
                key += $"|{tag.Key}={tag.Value}";
            }

            lock (_totals)
            {
                _totals[key] = _totals.GetValueOrDefault(key) + value;
            }
        });
        _listener.Start();
    }

    public JournalTelemetry Telemetry { get; }

    public long Total(string key)
    {
        lock (_totals)
        {
            return _totals.GetValueOrDefault(key);
        }
    }

    /// <summary>The latest observation of an observable gauge (which are only read when asked).</summary>
    public long Observe(string key)
    {
        lock (_totals)
        {
            foreach (var k in _totals.Keys.Where(k => k.StartsWith("pdm.journal.backlog", StringComparison.Ordinal) || k.StartsWith("pdm.journal.bytes", StringComparison.Ordinal)).ToList())
            {
                _totals.Remove(k);
            }
        }

        _listener.RecordObservableInstruments();
        return Total(key);
    }

    public void Dispose()
    {
        _listener.Dispose();
        Telemetry.Dispose();
        _services.Dispose();
    }
}

internal static class Journals
{
    public static JournalOptions Options(string path, Action<JournalOptions>? configure = null)
    {
        var options = new JournalOptions
        {
            Path = path,
            // Purging is driven by each test (PurgeExpiredAsync), not by the wall-clock timer.
            PurgeInterval = TimeSpan.FromHours(1),
        };
        configure?.Invoke(options);
        return options;
    }

    public static JournalAppend Entry(MessageClass messageClass, int bytes = 100, DateTimeOffset? originalTime = null, Guid? messageId = null, byte fill = 0) =>
        new(messageClass, $"pdm.test.{messageClass}", "application/octet-stream", Enumerable.Repeat(fill, bytes).ToArray(),
            originalTime ?? new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero), messageId);

    /// <summary>Leases everything the journal would offer right now (uplink reported down so the replay rate does not apply).</summary>
    public static async Task<List<JournalEntry>> LeaseAllAsync(EdgeJournal journal)
    {
        journal.UplinkDown();
        var all = new List<JournalEntry>();
        while (true)
        {
            var batch = await journal.LeaseNextAsync(500);
            if (batch.Count == 0)
            {
                return all;
            }

            all.AddRange(batch);
        }
    }
}
