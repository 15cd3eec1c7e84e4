using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PdM.Contracts;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Outbox;
using PdM.Maintenance.Persistence;
using PdM.Maintenance.Policy;
using PdM.Persistence;

namespace PdM.Maintenance.Consumers;

/// <summary>
/// Turns a prediction into a case and its work order. Idempotent: the inbox row and the effect commit together, so the
/// same message delivered twice changes nothing the second time. Correlating: predictions of the same (site, asset,
/// failure mode) fold into the open case; a transaction-scoped advisory lock serialises them across consumers and hosts.
/// CMMS deliveries and events go into the outbox in the same transaction. A prediction that cannot be mapped is stored
/// as a rejection with its reason and never blocks the others.
/// </summary>
public sealed partial class FailurePredictedConsumer(
    MaintenanceDbContext db,
    SiteDirectory sites,
    OutboxWriter outbox,
    MaintenanceTelemetry telemetry,
    TimeProvider clock,
    ILogger<FailurePredictedConsumer> logger) : IConsumer<FailurePredicted>
{
    public const string ConsumerName = "maintenance.failure-predicted";

    public async Task Consume(ConsumeContext<FailurePredicted> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var prediction = context.Message;
        var messageId = context.MessageId ?? (prediction.PredictionId == Guid.Empty ? Guid.NewGuid() : prediction.PredictionId);
        var now = clock.GetUtcNow();
        var cancellationToken = context.CancellationToken;

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await Inbox.TryRecordAsync(db, messageId, ConsumerName, now, cancellationToken))
        {
            telemetry.DuplicatesIgnored.Add(1);
            LogDuplicate(logger, messageId, prediction.AssetId);
            return;
        }

        using var activity = MaintenanceTelemetry.ActivitySource.StartActivity("maintenance case");
        if (activity is { IsAllDataRequested: true })
        {
            activity.DisplayName = "maintenance case " + prediction.AssetId;
            activity.SetTag("pdm.site.id", prediction.SiteId);
            activity.SetTag("pdm.asset.id", prediction.AssetId);
            activity.SetTag("pdm.failure_mode", prediction.FailureMode);
            activity.SetTag("pdm.prediction.id", prediction.PredictionId.ToString());
        }

        var (asset, problem) = sites.Resolve(prediction);
        if (problem is not null)
        {
            db.Rejections.Add(new PredictionRejection
            {
                Id = Guid.CreateVersion7(now),
                PredictionId = prediction.PredictionId,
                SiteId = ColumnText.Clip(prediction.SiteId, 64),
                AssetId = ColumnText.Clip(prediction.AssetId, 128),
                FailureMode = ColumnText.Clip(prediction.FailureMode, 32),
                Reason = problem.Reason,
                Detail = ColumnText.Clip(problem.Detail, 1000),
                ReceivedAt = now,
            });
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            telemetry.PredictionsRejected.Add(1, new KeyValuePair<string, object?>("reason", problem.Reason));
            LogRejected(logger, prediction.PredictionId, prediction.SiteId, prediction.AssetId, problem.Reason, problem.Detail);
            return;
        }

        // One problem at a time per condition: the lock makes "find open case, else open one" atomic.
        await ConditionLock.AcquireAsync(db, prediction.SiteId, prediction.AssetId, prediction.FailureMode, cancellationToken);

        var @case = await db.Cases.SingleOrDefaultAsync(
            c => c.SiteId == prediction.SiteId && c.AssetId == prediction.AssetId && c.FailureMode == prediction.FailureMode && c.Status == CaseStatus.Open,
            cancellationToken);

        if (@case is null)
        {
            var cooling = await db.Cases
                .Where(c => c.SiteId == prediction.SiteId && c.AssetId == prediction.AssetId && c.FailureMode == prediction.FailureMode
                            && c.Status == CaseStatus.Closed && c.CooldownUntil > now)
                .OrderByDescending(c => c.ClosedAt)
                .FirstOrDefaultAsync(cancellationToken);
            if (cooling is not null)
            {
                cooling.SuppressedCount++;
                cooling.UpdatedAt = now;
                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                telemetry.PredictionsSuppressed.Add(1);
                LogSuppressed(logger, prediction.SiteId, prediction.AssetId, prediction.FailureMode, cooling.Id, cooling.CooldownUntil!.Value);
                return;
            }
        }

        var site = asset!.Site;
        var criticality = asset.Asset.Criticality;
        var priority = CasePolicy.Priority(prediction, site, criticality);
        var created = @case is null;
        WorkOrder workOrder;
        var previousPriority = priority;
        if (@case is null)
        {
            (@case, workOrder) = Open(prediction, asset, priority, now);
            db.Cases.Add(@case);
            db.WorkOrders.Add(workOrder);
        }
        else
        {
            workOrder = await db.WorkOrders.SingleAsync(w => w.Id == @case.WorkOrderId, cancellationToken);
            previousPriority = @case.Priority;
        }

        // Priority only ever escalates while the case is open: a momentary better reading is no reason to relax.
        var escalated = !created && priority < previousPriority;
        if (created || escalated)
        {
            @case.Priority = priority;
            workOrder.Priority = priority;
            workOrder.LatestFinish = CasePolicy.LatestFinish(prediction, site, priority, now);
            if (escalated)
            {
                @case.EscalationCount++;
            }
        }

        Fold(@case, workOrder, prediction, now);

        var mode = SiteDirectory.FailureMode(site, prediction.FailureMode);
        if (created || escalated)
        {
            var canonical = CanonicalWorkOrderBuilder.Build(workOrder, @case, prediction, asset, mode, now);
            if (site.Cmms.Adapter != CmmsAdapterKind.None)
            {
                outbox.EnqueueCmms(canonical, now);
                workOrder.DeliveryState = workOrder.DeliveryState == DeliveryState.Delivered ? DeliveryState.Pending : workOrder.DeliveryState;
            }

            if (created)
            {
                outbox.EnqueueEvent(new WorkOrderRaised
                {
                    WorkOrderId = workOrder.Id,
                    SiteId = workOrder.SiteId,
                    AssetId = workOrder.AssetId,
                    FailureMode = workOrder.FailureMode,
                    Priority = workOrder.Priority,
                    ExternalKey = workOrder.ExternalKey,
                    SourcePredictionId = prediction.PredictionId,
                    Provenance = prediction.Provenance,
                    OccurredAt = now,
                    CaseId = @case.Id,
                    Kind = workOrder.Kind,
                    CmmsSystem = workOrder.CmmsSystem,
                    Confidence = prediction.Confidence,
                }, now);
            }
            else
            {
                outbox.EnqueueEvent(new MaintenanceCaseEscalated
                {
                    CaseId = @case.Id,
                    WorkOrderId = workOrder.Id,
                    SiteId = workOrder.SiteId,
                    AssetId = workOrder.AssetId,
                    FailureMode = workOrder.FailureMode,
                    ExternalKey = workOrder.ExternalKey,
                    PreviousPriority = previousPriority,
                    Priority = priority,
                    RulP50Hours = CasePolicy.RulHours(prediction),
                    SourcePredictionId = prediction.PredictionId,
                    OccurredAt = now,
                }, now);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (created || escalated)
        {
            outbox.Signal();
        }

        if (created)
        {
            telemetry.WorkOrdersRaised.Add(1, new KeyValuePair<string, object?>("path", prediction.Provenance.Path.ToString()));
            LogRaised(logger, workOrder.ExternalKey, prediction.SiteId, prediction.AssetId, prediction.FailureMode,
                workOrder.Priority, prediction.Provenance.Path, prediction.Provenance.RulesetName ?? prediction.Provenance.ModelName,
                workOrder.Kind, workOrder.CmmsSystem);
        }
        else
        {
            telemetry.WorkOrdersUpdated.Add(1);
            if (escalated)
            {
                telemetry.CasesEscalated.Add(1);
                LogEscalated(logger, workOrder.ExternalKey, previousPriority, priority);
            }
        }
    }

    private static (MaintenanceCase Case, WorkOrder WorkOrder) Open(FailurePredicted prediction, ResolvedAsset asset, WorkOrderPriority priority, DateTimeOffset now)
    {
        var caseId = Guid.CreateVersion7(now);
        var id = Guid.CreateVersion7(now);
        var criticality = asset.Asset.Criticality.ToString();
        var system = asset.Site.Cmms.Adapter switch
        {
            CmmsAdapterKind.Maximo => "maximo",
            CmmsAdapterKind.Sap => "sap",
            CmmsAdapterKind.Webhook => "webhook",
            _ => "none",
        };
        var @case = new MaintenanceCase
        {
            Id = caseId,
            SiteId = prediction.SiteId,
            AssetId = prediction.AssetId,
            FailureMode = prediction.FailureMode,
            Status = CaseStatus.Open,
            WorkOrderId = id,
            Priority = priority,
            Criticality = criticality,
            SourcePredictionIdsJson = "[]",
            OpenedAt = now,
        };
        var workOrder = new WorkOrder
        {
            Id = id,
            CaseId = caseId,
            SiteId = prediction.SiteId,
            AssetId = prediction.AssetId,
            FailureMode = prediction.FailureMode,
            Status = WorkOrderStatus.Open,
            ExternalKey = $"pdm:{prediction.SiteId}:{prediction.AssetId}:{prediction.FailureMode}:{id.ToString("N")[..12]}",
            FirstPredictionId = prediction.PredictionId,
            Priority = priority,
            Kind = CasePolicy.Kind(prediction, asset.Site, asset.Asset.Criticality),
            Criticality = criticality,
            CmmsSystem = system,
            DeliveryState = system == "none" ? DeliveryState.NotConfigured : DeliveryState.Pending,
            ProvenanceJson = "{}",
            EvidenceJson = "[]",
            CreatedAt = now,
        };
        return (@case, workOrder);
    }

    private static void Fold(MaintenanceCase @case, WorkOrder workOrder, FailurePredicted prediction, DateTimeOffset now)
    {
        workOrder.Severity = prediction.Severity > workOrder.Severity ? prediction.Severity : workOrder.Severity;
        workOrder.HealthState = prediction.HealthState;
        workOrder.Confidence = prediction.Confidence;
        workOrder.RulP50 = prediction.RemainingUsefulLife?.P50;
        workOrder.RulUnit = prediction.RemainingUsefulLife?.Unit;
        workOrder.LastPredictionId = prediction.PredictionId;
        workOrder.PredictionCount++;
        // The trace this prediction is handled in (the gateway's decision's, carried by the bus): "why did this work
        // order appear?" starts from it.
        var provenance = Activity.Current is { } trace ? prediction.Provenance with { TraceId = trace.TraceId.ToHexString() } : prediction.Provenance;
        workOrder.ProvenanceJson = JsonSerializer.Serialize(provenance, ContractsJsonContext.Default.DecisionProvenance);
        workOrder.EvidenceJson = JsonSerializer.Serialize(prediction.Evidence, ContractsJsonContext.Default.IReadOnlyListEvidence);
        workOrder.LastPredictedAt = prediction.OccurredAt;
        workOrder.UpdatedAt = now;

        @case.Confidence = prediction.Confidence;
        @case.RulP50Hours = CasePolicy.RulHours(prediction);
        @case.PredictionCount++;
        @case.UpdatedAt = now;
        var ids = JsonSerializer.Deserialize(@case.SourcePredictionIdsJson, MaintenanceJsonContext.Default.IReadOnlyListGuid) ?? [];
        var list = new List<Guid>(ids);
        if (list.Count < MaintenanceCase.MaxSourcePredictionIds)
        {
            list.Add(prediction.PredictionId);
        }
        else
        {
            // Keep the first ones (what opened the case) and the latest one (what it looked like last).
            list[^1] = prediction.PredictionId;
        }

        @case.SourcePredictionIdsJson = JsonSerializer.Serialize<IReadOnlyList<Guid>>(list, MaintenanceJsonContext.Default.IReadOnlyListGuid);
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information,
        Message = "Work order {ExternalKey} raised: site {SiteId}, asset {AssetId}, failure mode {FailureMode}, priority {Priority}, decided by {Path} ({Source}); {Kind} for {CmmsSystem}")]
    private static partial void LogRaised(ILogger logger, string externalKey, string siteId, string assetId, string failureMode,
        WorkOrderPriority priority, DecisionPath path, string? source, string kind, string cmmsSystem);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "Message {MessageId} for asset {AssetId} already processed; ignored")]
    private static partial void LogDuplicate(ILogger logger, Guid messageId, string assetId);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning,
        Message = "Rejected prediction {PredictionId} (site {SiteId}, asset {AssetId}): {Reason}: {Detail}")]
    private static partial void LogRejected(ILogger logger, Guid predictionId, string? siteId, string? assetId, string reason, string detail);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Work order {ExternalKey} escalated from {Previous} to {Priority}")]
    private static partial void LogEscalated(ILogger logger, string externalKey, WorkOrderPriority previous, WorkOrderPriority priority);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Debug,
        Message = "Prediction for site {SiteId}, asset {AssetId}, mode {FailureMode} folded into closed case {CaseId} (cooldown until {CooldownUntil})")]
    private static partial void LogSuppressed(ILogger logger, string siteId, string assetId, string failureMode, Guid caseId, DateTimeOffset cooldownUntil);
}
