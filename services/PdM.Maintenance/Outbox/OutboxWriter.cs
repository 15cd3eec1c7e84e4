using System.Text.Json;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Persistence;
using PdM.Persistence;

namespace PdM.Maintenance.Outbox;

/// <summary>Adds outbox rows to the caller's <see cref="MaintenanceDbContext"/>, so they commit with the caller's change.</summary>
public sealed class OutboxWriter(MaintenanceDbContext db, OutboxSignal<MaintenanceDbContext> signal)
{
    /// <summary>A work order's events form one stream: raised, escalated and its outcome reach consumers in that order.</summary>
    public static OutboxRoutes Routes { get; } = new OutboxRoutes()
        .Publish(MaintenanceJsonContext.Default.WorkOrderRaised, m => WorkOrderStream(m.WorkOrderId))
        .Publish(MaintenanceJsonContext.Default.MaintenanceCaseEscalated, m => WorkOrderStream(m.WorkOrderId))
        .Publish(MaintenanceJsonContext.Default.MaintenanceOutcomeRecorded, m => WorkOrderStream(m.WorkOrderId));

    public void EnqueueCmms(CanonicalWorkOrder workOrder, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(workOrder);
        db.Outbox.Add(OutboxMessage.Create(
            CmmsDelivery.Type,
            JsonSerializer.Serialize(workOrder, MaintenanceJsonContext.Default.CanonicalWorkOrder),
            CmmsDelivery.StreamOf(workOrder.WorkOrderId),
            now));
    }

    public void EnqueueEvent(WorkOrderRaised message, DateTimeOffset now) =>
        db.Outbox.Add(Routes.Create(message, MaintenanceJsonContext.Default.WorkOrderRaised, now));

    public void EnqueueEvent(MaintenanceCaseEscalated message, DateTimeOffset now) =>
        db.Outbox.Add(Routes.Create(message, MaintenanceJsonContext.Default.MaintenanceCaseEscalated, now));

    public void EnqueueEvent(MaintenanceOutcomeRecorded message, DateTimeOffset now) =>
        db.Outbox.Add(Routes.Create(message, MaintenanceJsonContext.Default.MaintenanceOutcomeRecorded, now));

    /// <summary>Call after the commit: wakes the dispatcher.</summary>
    public void Signal() => signal.Wake();

    private static string WorkOrderStream(Guid workOrderId) => "work-order:" + workOrderId.ToString("N");
}
