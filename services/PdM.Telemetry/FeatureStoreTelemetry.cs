using System.Diagnostics.Metrics;

namespace PdM.Telemetry;

/// <summary>The Telemetry module's meter: feature-store loading, retention and training runs.</summary>
public sealed class FeatureStoreTelemetry : IDisposable
{
    public const string MeterName = "PdM.Telemetry";

    /// <summary>Spans of the module's long-running work (training runs).</summary>
    public static System.Diagnostics.ActivitySource ActivitySource { get; } = new(MeterName);

    private readonly Meter _meter;

    public FeatureStoreTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        RowsLoaded = _meter.CreateCounter<long>("pdm.feature_store.rows_loaded", description: "Feature-window rows bulk-loaded, by origin (gateway, dataset).");
        BatchesRejected = _meter.CreateCounter<long>("pdm.feature_store.batches_rejected", description: "Feature batches refused, by reason.");
        DuplicatesIgnored = _meter.CreateCounter<long>("pdm.feature_store.duplicates_ignored", description: "Redelivered messages or batches that had already been stored.");
        PartitionsCreated = _meter.CreateCounter<long>("pdm.feature_store.partitions_created", description: "Daily partitions created.");
        PartitionsDropped = _meter.CreateCounter<long>("pdm.feature_store.partitions_dropped", description: "Daily partitions dropped by retention.");
        LabelsRecorded = _meter.CreateCounter<long>("pdm.feature_store.labels_recorded", description: "Labels stored, by source.");
        TrainingRuns = _meter.CreateCounter<long>("pdm.training.jobs", description: "Training runs finished, by result.");
    }

    public Counter<long> RowsLoaded { get; }

    public Counter<long> BatchesRejected { get; }

    public Counter<long> DuplicatesIgnored { get; }

    public Counter<long> PartitionsCreated { get; }

    public Counter<long> PartitionsDropped { get; }

    public Counter<long> LabelsRecorded { get; }

    public Counter<long> TrainingRuns { get; }

    public void Dispose() => _meter.Dispose();
}
