using System.Diagnostics.Metrics;

namespace PdM.Lineage;

/// <summary>The Lineage module's meter: audit appends, duplicates, pruning and verification failures.</summary>
public sealed class LineageTelemetry : IDisposable
{
    public const string MeterName = "PdM.Lineage";

    private readonly Meter _meter;

    public LineageTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        EntriesAppended = _meter.CreateCounter<long>("pdm.audit.entries_appended", description: "Audit entries appended, by action.");
        DuplicatesIgnored = _meter.CreateCounter<long>("pdm.audit.duplicates_ignored", description: "Redelivered events already in the audit log.");
        EntriesPruned = _meter.CreateCounter<long>("pdm.audit.entries_pruned", description: "Audit entries removed by retention (anchored by a checkpoint).");
        VerificationFailures = _meter.CreateCounter<long>("pdm.audit.verification_failures", description: "Chain verifications that found a broken link, by reason.");
    }

    public Counter<long> EntriesAppended { get; }

    public Counter<long> DuplicatesIgnored { get; }

    public Counter<long> EntriesPruned { get; }

    public Counter<long> VerificationFailures { get; }

    public void Dispose() => _meter.Dispose();
}
