using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Persistence;
using PdM.Registry.Application;
using PdM.Registry.Persistence;

namespace PdM.Registry.Consumers;

/// <summary>
/// Files each planner's outcome (<see cref="MaintenanceOutcomeRecorded"/>) under the model version or ruleset its
/// provenance names, so the registry shows that decider's live precision next to its stages. The outcome id is the
/// key: a redelivered event counts once.
/// </summary>
public sealed partial class MaintenanceOutcomeConsumer(RegistryDbContext db, RegistryTelemetry telemetry, TimeProvider clock,
    ILogger<MaintenanceOutcomeConsumer> logger) : IConsumer<MaintenanceOutcomeRecorded>
{
    public async Task Consume(ConsumeContext<MaintenanceOutcomeRecorded> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        var p = m.Provenance;
        var (path, name, version, digest) = p.Path == DecisionPath.Model
            ? (LivePerformance.ModelPath, p.ModelName, p.ModelVersion, p.ModelDigest)
            : (LivePerformance.RulesPath, p.RulesetName, p.RulesetVersion, null);
        if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(version))
        {
            // Nothing to judge: the decision did not say which model or ruleset made it.
            telemetry.Outcomes.Add(1, new KeyValuePair<string, object?>("result", "no_decider"));
            LogNoDecider(logger, m.OutcomeId, m.WorkOrderId);
            return;
        }

        var confirmed = m.Outcome == MaintenanceOutcome.FailureConfirmed;
        var stored = await db.Database.ExecuteSqlInterpolatedAsync(
            $"""
            INSERT INTO registry.decision_outcomes (outcome_id, path, name, version, digest, site_id, asset_id, failure_mode, failure_confirmed, failure_code, source, work_order_id, closed_at, received_at)
            VALUES ({m.OutcomeId}, {path}, {ColumnText.Clip(name, 128)}, {ColumnText.Clip(version, 64)}, {ColumnText.Clip(digest, 80)}, {ColumnText.Clip(m.SiteId, 64)}, {ColumnText.Clip(m.AssetId, 128)},
                    {ColumnText.Clip(m.FailureMode, 32)}, {confirmed}, {ColumnText.Clip(m.FailureCode, 64)}, {ColumnText.Clip(m.Source, 16)}, {m.WorkOrderId}, {m.ClosedAt}, {clock.GetUtcNow()})
            ON CONFLICT (outcome_id) DO NOTHING
            """,
            context.CancellationToken);
        if (stored == 0)
        {
            return;
        }

        telemetry.Outcomes.Add(1, new KeyValuePair<string, object?>("result", confirmed ? "failure_confirmed" : "no_fault_found"));
        var live = await LivePerformance.ForAsync(db, path, ColumnText.Clip(name, 128), ColumnText.Clip(version, 64), context.CancellationToken);
        var precision = Math.Round(live.LivePrecision ?? 0, 2);
        LogLivePrecision(logger, path, name, version, precision, live.FailuresConfirmed, live.NoFaultFound, m.Outcome, m.FailureCode ?? "-", m.Source, m.AssetId);
    }

    [LoggerMessage(EventId = 3171, Level = LogLevel.Information,
        Message = "Live precision of {Path} {Name}@{Version}: {LivePrecision} ({Confirmed} confirmed, {NoFault} no fault found) after outcome {Outcome} (code {FailureCode}) from {Source} on {AssetId}")]
    private static partial void LogLivePrecision(ILogger logger, string path, string name, string version, double livePrecision, int confirmed, int noFault,
        MaintenanceOutcome outcome, string failureCode, string source, string assetId);

    [LoggerMessage(EventId = 3172, Level = LogLevel.Warning, Message = "Outcome {OutcomeId} of work order {WorkOrderId} names no model or ruleset version; not counted")]
    private static partial void LogNoDecider(ILogger logger, Guid outcomeId, Guid workOrderId);
}
