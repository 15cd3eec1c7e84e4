using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PdM.Contracts;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Outbox;
using PdM.Maintenance.Persistence;
using PdM.Maintenance.Policy;

namespace PdM.Maintenance.Feedback;

/// <summary>
/// Records the outcome of a case (failure confirmed with its code, or no fault found), closes the case and its work order,
/// starts the site's cooldown and publishes <see cref="MaintenanceOutcomeRecorded"/> through the outbox — one transaction.
/// </summary>
public sealed partial class CaseCloser(
    MaintenanceDbContext db, OutboxWriter outbox, SiteDirectory sites, MaintenanceTelemetry telemetry, TimeProvider clock, ILogger<CaseCloser> logger)
{
    /// <summary>Classifies a CMMS close code with the site's "no fault found" codes.</summary>
    public MaintenanceOutcome Classify(string siteId, string? closeCode)
    {
        var site = sites.Site(siteId);
        if (closeCode is null || site is null)
        {
            return MaintenanceOutcome.FailureConfirmed;
        }

        foreach (var code in site.NoFaultFoundCodes)
        {
            if (string.Equals(code, closeCode, StringComparison.OrdinalIgnoreCase))
            {
                return MaintenanceOutcome.NoFaultFound;
            }
        }

        return MaintenanceOutcome.FailureConfirmed;
    }

    /// <summary>False when the case was already closed (the outcome is recorded once).</summary>
    public async Task<bool> CloseAsync(Guid workOrderId, MaintenanceOutcome outcome, string? failureCode, DateTimeOffset? closedAt,
        string source, string? cmmsStatus, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var workOrder = await db.WorkOrders.SingleOrDefaultAsync(w => w.Id == workOrderId, cancellationToken);
        if (workOrder is null)
        {
            return false;
        }

        // The same lock the consumer takes: a prediction folding in and the close never interleave.
        await ConditionLock.RefreshAsync(db, workOrder, cancellationToken);
        var @case = await db.Cases.SingleOrDefaultAsync(c => c.Id == workOrder.CaseId, cancellationToken);
        if (@case is not null)
        {
            await db.Entry(@case).ReloadAsync(cancellationToken);
        }

        if (@case is null || @case.Status == CaseStatus.Closed)
        {
            return false;
        }

        var closed = closedAt ?? now;
        var cooldown = sites.Site(@case.SiteId)?.Cooldown ?? TimeSpan.Zero;
        @case.Status = CaseStatus.Closed;
        @case.ClosedAt = closed;
        @case.CooldownUntil = closed + cooldown;
        @case.Outcome = outcome;
        @case.FailureCode = failureCode;
        @case.UpdatedAt = now;
        workOrder.Status = WorkOrderStatus.Closed;
        workOrder.ClosedAt = closed;
        workOrder.CmmsStatus = cmmsStatus ?? workOrder.CmmsStatus;
        workOrder.LastSyncedAt = now;
        workOrder.UpdatedAt = now;

        var provenance = JsonSerializer.Deserialize(workOrder.ProvenanceJson, ContractsJsonContext.Default.DecisionProvenance)
            ?? new DecisionProvenance { Path = DecisionPath.Rules, GatewayId = "unknown" };
        outbox.EnqueueEvent(new MaintenanceOutcomeRecorded
        {
            OutcomeId = Guid.CreateVersion7(now),
            CaseId = @case.Id,
            WorkOrderId = workOrder.Id,
            SiteId = @case.SiteId,
            AssetId = @case.AssetId,
            FailureMode = @case.FailureMode,
            Outcome = outcome,
            FailureCode = failureCode,
            ClosedAt = closed,
            Source = source,
            CmmsRecordId = workOrder.CmmsRecordId,
            SourcePredictionIds = JsonSerializer.Deserialize(@case.SourcePredictionIdsJson, MaintenanceJsonContext.Default.IReadOnlyListGuid) ?? [],
            Provenance = provenance,
            OccurredAt = now,
        }, now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        outbox.Signal();
        telemetry.OutcomesRecorded.Add(1, new KeyValuePair<string, object?>("outcome", outcome.ToString()));
        LogClosed(logger, @case.Id, workOrder.ExternalKey, outcome, failureCode, source, @case.CooldownUntil.Value);
        return true;
    }

    [LoggerMessage(EventId = 2301, Level = LogLevel.Information,
        Message = "Case {CaseId} ({ExternalKey}) closed: {Outcome}, code {FailureCode}, from {Source}; cooldown until {CooldownUntil}")]
    private static partial void LogClosed(ILogger logger, Guid caseId, string externalKey, MaintenanceOutcome outcome, string? failureCode, string source, DateTimeOffset cooldownUntil);
}
