using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace PdM.Testing;

/// <summary>Listens to the platform's own counters, as a Prometheus scrape would, to assert what operators would see.</summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _totals = new();
    private readonly ConcurrentDictionary<string, long> _maxima = new();
    private readonly ConcurrentDictionary<string, long> _counts = new();
    private readonly ConcurrentDictionary<string, double> _sums = new();

    public MetricRecorder(params string[] meterNames)
        : this(scope: null, meterNames)
    {
    }

    /// <summary>
    /// Only the meters a given <see cref="IMeterFactory"/> created (one host's), so hosts running in parallel in the
    /// same test process do not add to each other's totals. Create it before the host starts.
    /// </summary>
    public MetricRecorder(IMeterFactory? scope, params string[] meterNames)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (meterNames.Contains(instrument.Meter.Name) && (scope is null || ReferenceEquals(instrument.Meter.Scope, scope)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => RecordDouble(instrument.Name, value, tags));
        _listener.Start();
    }

    /// <summary>Total of a counter, optionally for one tag value: <c>Total("pdm.ingest.rejected", "reason", "malformed")</c>.</summary>
    public long Total(string instrument, string? tagKey = null, string? tagValue = null) =>
        _totals.TryGetValue(tagKey is null ? instrument : $"{instrument}{{{tagKey}={tagValue}}}", out var total) ? total : 0;

    /// <summary>Total of a counter of fractional values (e.g. seconds), optionally for one tag value.</summary>
    public double Sum(string instrument, string? tagKey = null, string? tagValue = null) =>
        _sums.TryGetValue(tagKey is null ? instrument : $"{instrument}{{{tagKey}={tagValue}}}", out var sum) ? sum : 0;

    /// <summary>The largest single measurement of an instrument (a histogram's max bucket, as a dashboard shows it).</summary>
    public long Max(string instrument) => _maxima.TryGetValue(instrument, out var max) ? max : 0;

    /// <summary>How many measurements an instrument took (a histogram's count: e.g. model runs for <c>pdm.inference.batch.size</c>).</summary>
    public long Count(string instrument) => _counts.TryGetValue(instrument, out var count) ? count : 0;

    private void Record(string instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        _counts.AddOrUpdate(instrument, 1, (_, count) => count + 1);
        _totals.AddOrUpdate(instrument, value, (_, total) => total + value);
        _maxima.AddOrUpdate(instrument, value, (_, max) => Math.Max(max, value));
        foreach (var tag in tags)
        {
            var key = $"{instrument}{{{tag.Key}={tag.Value}}}";
            _totals.AddOrUpdate(key, value, (_, total) => total + value);
        }
    }

    private void RecordDouble(string instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        _sums.AddOrUpdate(instrument, value, (_, total) => total + value);
        foreach (var tag in tags)
        {
            _sums.AddOrUpdate($"{instrument}{{{tag.Key}={tag.Value}}}", value, (_, total) => total + value);
        }
    }

    public void Dispose() => _listener.Dispose();
}
