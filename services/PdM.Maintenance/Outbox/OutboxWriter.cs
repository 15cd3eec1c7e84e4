using System.Text.Json;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Cmms;
using PdM.Maintenance.Persistence;
using PdM.Maintenance.Policy;

namespace PdM.Maintenance.Outbox;

/// <summary>Adds outbox rows to the caller's <see cref="MaintenanceDbContext"/>, so they commit with the caller's change.</summary>
public sealed class OutboxWriter(MaintenanceDbContext db, OutboxSignal signal)
{
    public void EnqueueCmms(CanonicalWorkOrder workOrder, CmmsAdapterKind adapter, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(workOrder);
        db.Outbox.Add(new OutboxMessage
        {
            Kind = OutboxKind.Cmms,
            Destination = CmmsAdapterFactory.EndpointKey(workOrder.SiteId, adapter),
            SiteId = workOrder.SiteId,
            WorkOrderId = workOrder.WorkOrderId,
            PayloadJson = JsonSerializer.Serialize(workOrder, MaintenanceJsonContext.Default.CanonicalWorkOrder),
            NextAttemptAt = now,
            CreatedAt = now,
        });
    }

    public void EnqueueEvent(WorkOrderRaised message, string siteId, Guid workOrderId, DateTimeOffset now) =>
        Add(nameof(WorkOrderRaised), JsonSerializer.Serialize(message, MaintenanceJsonContext.Default.WorkOrderRaised), siteId, workOrderId, now);

    public void EnqueueEvent(MaintenanceCaseEscalated message, string siteId, Guid workOrderId, DateTimeOffset now) =>
        Add(nameof(MaintenanceCaseEscalated), JsonSerializer.Serialize(message, MaintenanceJsonContext.Default.MaintenanceCaseEscalated), siteId, workOrderId, now);

    public void EnqueueEvent(MaintenanceOutcomeRecorded message, string siteId, Guid workOrderId, DateTimeOffset now) =>
        Add(nameof(MaintenanceOutcomeRecorded), JsonSerializer.Serialize(message, MaintenanceJsonContext.Default.MaintenanceOutcomeRecorded), siteId, workOrderId, now);

    /// <summary>Call after the commit: wakes the dispatcher.</summary>
    public void Signal() => signal.Set();

    private void Add(string type, string json, string siteId, Guid workOrderId, DateTimeOffset now) =>
        db.Outbox.Add(new OutboxMessage
        {
            Kind = OutboxKind.Bus,
            Destination = type,
            SiteId = siteId,
            WorkOrderId = workOrderId,
            PayloadJson = json,
            NextAttemptAt = now,
            CreatedAt = now,
        });
}
