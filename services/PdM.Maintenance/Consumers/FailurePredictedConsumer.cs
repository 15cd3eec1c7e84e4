using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PdM.Contracts;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Persistence;

namespace PdM.Maintenance.Consumers;

/// <summary>
/// Turns a prediction into a work order. Idempotent: the inbox row and the effect commit together, so the same
/// message delivered twice changes nothing the second time. Correlating: an open work order for the same
/// (site, asset, failure mode) is updated, never duplicated.
/// </summary>
public sealed partial class FailurePredictedConsumer(
    MaintenanceDbContext db,
    MaintenanceTelemetry telemetry,
    TimeProvider clock,
    ILogger<FailurePredictedConsumer> logger) : IConsumer<FailurePredicted>
{
    public const string ConsumerName = "maintenance.failure-predicted";

    public async Task Consume(ConsumeContext<FailurePredicted> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var prediction = context.Message;
        var messageId = context.MessageId ?? prediction.PredictionId;
        var now = clock.GetUtcNow();
        var cancellationToken = context.CancellationToken;

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var firstDelivery = await db.Database.ExecuteSqlInterpolatedAsync(
            $"INSERT INTO maintenance.inbox (message_id, consumer, received_at) VALUES ({messageId}, {ConsumerName}, {now}) ON CONFLICT DO NOTHING",
            cancellationToken);
        if (firstDelivery == 0)
        {
            telemetry.DuplicatesIgnored.Add(1);
            LogDuplicate(logger, messageId, prediction.AssetId);
            return;
        }

        var open = await db.WorkOrders.SingleOrDefaultAsync(
            w => w.SiteId == prediction.SiteId && w.AssetId == prediction.AssetId
                 && w.FailureMode == prediction.FailureMode && w.Status == WorkOrderStatus.Open,
            cancellationToken);

        var created = open is null;
        var workOrder = open ?? NewWorkOrder(prediction, now);
        Apply(workOrder, prediction, now);
        if (created)
        {
            db.WorkOrders.Add(workOrder);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        if (created)
        {
            telemetry.WorkOrdersRaised.Add(1, new KeyValuePair<string, object?>("path", prediction.Provenance.Path.ToString()));
            LogRaised(logger, workOrder.ExternalKey, prediction.SiteId, prediction.AssetId, prediction.FailureMode,
                workOrder.Priority, prediction.Provenance.Path, prediction.Provenance.RulesetName ?? prediction.Provenance.ModelName);
        }
        else
        {
            telemetry.WorkOrdersUpdated.Add(1);
        }
    }

    private static WorkOrder NewWorkOrder(FailurePredicted prediction, DateTimeOffset now)
    {
        var id = Guid.CreateVersion7(now);
        return new WorkOrder
        {
            Id = id,
            SiteId = prediction.SiteId,
            AssetId = prediction.AssetId,
            FailureMode = prediction.FailureMode,
            Status = WorkOrderStatus.Open,
            ExternalKey = $"pdm:{prediction.SiteId}:{prediction.AssetId}:{prediction.FailureMode}:{id.ToString("N")[..12]}",
            FirstPredictionId = prediction.PredictionId,
            Priority = WorkOrderPriority.Low,
            ProvenanceJson = "{}",
            EvidenceJson = "[]",
            CreatedAt = now,
        };
    }

    private static void Apply(WorkOrder workOrder, FailurePredicted prediction, DateTimeOffset now)
    {
        // Priority only ever escalates while the case is open: a momentary better reading is no reason to relax.
        var priority = PriorityFor(prediction);
        if (priority < workOrder.Priority || workOrder.PredictionCount == 0)
        {
            workOrder.Priority = priority;
        }

        workOrder.Severity = prediction.Severity > workOrder.Severity ? prediction.Severity : workOrder.Severity;
        workOrder.HealthState = prediction.HealthState;
        workOrder.Confidence = prediction.Confidence;
        workOrder.RulP50 = prediction.RemainingUsefulLife?.P50;
        workOrder.RulUnit = prediction.RemainingUsefulLife?.Unit;
        workOrder.LastPredictionId = prediction.PredictionId;
        workOrder.PredictionCount++;
        workOrder.ProvenanceJson = JsonSerializer.Serialize(prediction.Provenance, ContractsJsonContext.Default.DecisionProvenance);
        workOrder.EvidenceJson = JsonSerializer.Serialize(prediction.Evidence, ContractsJsonContext.Default.IReadOnlyListEvidence);
        workOrder.LastPredictedAt = prediction.OccurredAt;
        workOrder.UpdatedAt = now;
    }

    internal static WorkOrderPriority PriorityFor(FailurePredicted prediction) => prediction.HealthState switch
    {
        HealthState.Danger => WorkOrderPriority.Urgent,
        HealthState.Alert => WorkOrderPriority.High,
        HealthState.Watch => WorkOrderPriority.Medium,
        _ => WorkOrderPriority.Low,
    };

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information,
        Message = "Work order {ExternalKey} raised: site {SiteId}, asset {AssetId}, failure mode {FailureMode}, priority {Priority}, decided by {Path} ({Source})")]
    private static partial void LogRaised(ILogger logger, string externalKey, string siteId, string assetId, string failureMode,
        WorkOrderPriority priority, DecisionPath path, string? source);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "Message {MessageId} for asset {AssetId} already processed; ignored")]
    private static partial void LogDuplicate(ILogger logger, Guid messageId, string assetId);
}
