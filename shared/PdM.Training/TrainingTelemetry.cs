using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PdM.Training;

/// <summary>Meter <c>PdM.Training</c>: runs and their duration by task and algorithm.</summary>
public sealed class TrainingTelemetry : IDisposable
{
    public const string MeterName = "PdM.Training";

    private readonly Meter _meter;
    private readonly Counter<long> _runs;
    private readonly Histogram<double> _duration;

    public TrainingTelemetry(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _runs = _meter.CreateCounter<long>("pdm.training.runs", "{run}", "Training runs completed");
        _duration = _meter.CreateHistogram<double>("pdm.training.duration", "s", "Feature computation and final fit of a training run");
    }

    public void RunCompleted(TreeTrainingOptions options, TimeSpan trainingTime)
    {
        ArgumentNullException.ThrowIfNull(options);
        var tags = new TagList { { "task", options.Task.ToString() }, { "algorithm", options.Algorithm.ToString() } };
        _runs.Add(1, tags);
        _duration.Record(trainingTime.TotalSeconds, tags);
    }

    public void Dispose() => _meter.Dispose();
}
