using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace PdM.Testing;

/// <summary>Listens to the platform's own counters, as a Prometheus scrape would, to assert what operators would see.</summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _totals = new();

    public MetricRecorder(params string[] meterNames)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (meterNames.Contains(instrument.Meter.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            _totals.AddOrUpdate(instrument.Name, value, (_, total) => total + value);
            foreach (var tag in tags)
            {
                var key = $"{instrument.Name}{{{tag.Key}={tag.Value}}}";
                _totals.AddOrUpdate(key, value, (_, total) => total + value);
            }
        });
        _listener.Start();
    }

    /// <summary>Total of a counter, optionally for one tag value: <c>Total("pdm.ingest.rejected", "reason", "malformed")</c>.</summary>
    public long Total(string instrument, string? tagKey = null, string? tagValue = null) =>
        _totals.TryGetValue(tagKey is null ? instrument : $"{instrument}{{{tagKey}={tagValue}}}", out var total) ? total : 0;

    public void Dispose() => _listener.Dispose();
}
