using MassTransit;
using Microsoft.Extensions.Logging;
using Npgsql;
using PdM.Contracts.Maintenance;
using PdM.Persistence;
using PdM.Telemetry.Persistence;

namespace PdM.Telemetry.Consumers;

/// <summary>
/// A planner's recorded outcome becomes a failure label (confirmed = 1, no fault found = 0) for the asset at the
/// closing time. Idempotent twice over: the inbox row, and the unique outcome id.
/// </summary>
public sealed partial class MaintenanceOutcomeRecordedConsumer(NpgsqlDataSource dataSource, FeatureStoreTelemetry telemetry, TimeProvider clock,
    ILogger<MaintenanceOutcomeRecordedConsumer> logger) : IConsumer<MaintenanceOutcomeRecorded>
{
    public const string ConsumerName = "telemetry.maintenance-outcome-recorded";
    public const string Source = "maintenance";

    public async Task Consume(ConsumeContext<MaintenanceOutcomeRecorded> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var outcome = context.Message;
        var now = clock.GetUtcNow();
        var cancellationToken = context.CancellationToken;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await Inbox.TryRecordAsync(connection, TelemetryDbContext.Schema, context.MessageId ?? outcome.OutcomeId, ConsumerName, now, cancellationToken))
        {
            telemetry.DuplicatesIgnored.Add(1);
            return;
        }

        await using var insert = new NpgsqlCommand(
            "INSERT INTO telemetry.labels (id, source, site_id, asset_id, kind, at, time_index, label, target, failure_mode, outcome_id, recorded_at) " +
            "VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING", connection);
        var value = outcome.Outcome == MaintenanceOutcome.FailureConfirmed ? 1f : 0f;
        insert.Parameters.Add(new NpgsqlParameter { Value = Guid.CreateVersion7(now) });
        insert.Parameters.Add(new NpgsqlParameter { Value = Source });
        insert.Parameters.Add(new NpgsqlParameter { Value = ColumnText.Clip(outcome.SiteId, 64) });
        insert.Parameters.Add(new NpgsqlParameter { Value = ColumnText.Clip(outcome.AssetId, 128) });
        insert.Parameters.Add(new NpgsqlParameter { Value = LabelKinds.Failure });
        insert.Parameters.Add(new NpgsqlParameter { Value = outcome.ClosedAt.ToUniversalTime() });
        insert.Parameters.Add(new NpgsqlParameter { Value = value });
        insert.Parameters.Add(new NpgsqlParameter { Value = (double)value });
        insert.Parameters.Add(new NpgsqlParameter { Value = ColumnText.Clip(outcome.FailureMode, 32) });
        insert.Parameters.Add(new NpgsqlParameter { Value = outcome.OutcomeId });
        insert.Parameters.Add(new NpgsqlParameter { Value = now });
        var stored = await insert.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (stored == 1)
        {
            telemetry.LabelsRecorded.Add(1, new KeyValuePair<string, object?>("source", Source));
            LogLabel(logger, outcome.SiteId, outcome.AssetId, outcome.FailureMode, outcome.Outcome);
        }
    }

    [LoggerMessage(EventId = 7201, Level = LogLevel.Information, Message = "Label from maintenance outcome: site {SiteId}, asset {AssetId}, mode {FailureMode}: {Outcome}")]
    private static partial void LogLabel(ILogger logger, string siteId, string assetId, string failureMode, MaintenanceOutcome outcome);
}
