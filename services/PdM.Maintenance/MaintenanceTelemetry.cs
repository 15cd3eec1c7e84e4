using System.Diagnostics.Metrics;

namespace PdM.Maintenance;

/// <summary>The Maintenance module's meter: what a planner's dashboard shows about work orders.</summary>
public sealed class MaintenanceTelemetry : IDisposable
{
    public const string MeterName = "PdM.Maintenance";

    private readonly Meter _meter;

    public MaintenanceTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        WorkOrdersRaised = _meter.CreateCounter<long>("pdm.maintenance.work_orders_raised", description: "Work orders opened.");
        WorkOrdersUpdated = _meter.CreateCounter<long>("pdm.maintenance.work_orders_updated", description: "Predictions folded into an already open work order.");
        DuplicatesIgnored = _meter.CreateCounter<long>("pdm.maintenance.duplicates_ignored", description: "Redelivered messages that had already taken effect.");
    }

    public Counter<long> WorkOrdersRaised { get; }

    public Counter<long> WorkOrdersUpdated { get; }

    public Counter<long> DuplicatesIgnored { get; }

    public void Dispose() => _meter.Dispose();
}
