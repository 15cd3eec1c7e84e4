using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace PdM.Edge.Inference.Tests;

public sealed class InferenceTelemetryTests
{
    [Fact]
    public async Task Decisions_are_counted_by_path_and_reason_and_batches_timed_by_provider_and_model()
    {
        var decisions = new ConcurrentQueue<string>();
        var durations = new ConcurrentQueue<string>();
        await using var h = new InferenceHarness();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, GetMeter(h.Telemetry)))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            if (instrument.Name == "pdm.decisions")
            {
                decisions.Enqueue(Tag(tags, "path") + "/" + Tag(tags, "reason"));
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
        {
            if (instrument.Name == "pdm.inference.duration")
            {
                durations.Enqueue(Tag(tags, "provider") + "/" + Tag(tags, "model"));
            }
        });
        listener.Start();
        h.Deploy("logreg_failure");

        await h.Decide(InferenceHarness.Golden("logreg_failure", "failure_probability")[0].Input);
        await h.Decide([300.0f, 310.0f, 1500.0f, 95.0f, 100.0f]);

        Assert.Equal(["model/none", "rules/out_of_distribution"], decisions.ToArray());
        Assert.Contains("cpu/ai4i-failure-logreg", durations);
    }

    private static Meter GetMeter(InferenceTelemetry telemetry) => telemetry.Meter;

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
