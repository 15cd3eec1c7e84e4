using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using PdM.Contracts.Telemetry;
using PdM.Persistence;
using PdM.Telemetry.Persistence;

namespace PdM.Telemetry.Store;

public enum BatchOutcome
{
    Stored = 0,
    Duplicate = 1,
    Rejected = 2,
}

/// <summary>What became of a batch; <see cref="Reason"/> is a stable code when rejected.</summary>
public sealed record BatchResult(BatchOutcome Outcome, ulong Rows, string? Reason = null, string? Detail = null);

/// <summary>
/// Loads gateway feature batches: validates, creates the days' partitions, then in one transaction records the message
/// in the inbox and the batch (either already present → nothing more happens) and COPYs the rows. A redelivered message
/// or a replayed batch therefore stores nothing twice.
/// </summary>
public sealed partial class FeatureStore(
    NpgsqlDataSource dataSource,
    PartitionManager partitions,
    IOptions<FeatureStoreOptions> options,
    FeatureStoreTelemetry telemetry,
    TimeProvider clock,
    ILogger<FeatureStore> logger)
{
    public const string GatewaySourcePrefix = "gateway:";

    public async Task<BatchResult> StoreAsync(FeatureWindowsCollected batch, Guid messageId, string consumer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var problem = Validate(batch, options.Value.MaxRowsPerBatch, out var days);
        var now = clock.GetUtcNow();
        if (problem is not null)
        {
            // Recorded in the inbox so the same bad message is not re-examined on every redelivery.
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await Inbox.TryRecordAsync(connection, TelemetryDbContext.Schema, messageId, consumer, now, cancellationToken);
            telemetry.BatchesRejected.Add(1, new KeyValuePair<string, object?>("reason", problem.Value.Reason));
            LogRejected(logger, batch.BatchId, batch.GatewayId, problem.Value.Reason, problem.Value.Detail);
            return new BatchResult(BatchOutcome.Rejected, 0, problem.Value.Reason, problem.Value.Detail);
        }

        await partitions.EnsureAsync(days, cancellationToken);
        try
        {
            return await LoadAsync(batch, messageId, consumer, now, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.CheckViolation)
        {
            // "no partition of relation found for row": a partition we remembered was dropped meanwhile (retention on
            // another host). Create it again and load once more; a second failure goes to the bus's retry.
            partitions.Forget();
            await partitions.EnsureAsync(days, cancellationToken);
            return await LoadAsync(batch, messageId, consumer, now, cancellationToken);
        }
    }

    private async Task<BatchResult> LoadAsync(FeatureWindowsCollected batch, Guid messageId, string consumer, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await Inbox.TryRecordAsync(connection, TelemetryDbContext.Schema, messageId, consumer, now, cancellationToken))
        {
            telemetry.DuplicatesIgnored.Add(1);
            LogDuplicate(logger, messageId, batch.BatchId);
            return new BatchResult(BatchOutcome.Duplicate, 0);
        }

        var source = GatewaySourcePrefix + batch.GatewayId;
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO telemetry.feature_batches (batch_id, source, site_id, spec_digest, spec_name, feature_names, row_count, received_at) " +
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.BatchId });
            insert.Parameters.Add(new NpgsqlParameter { Value = source });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.SiteId });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.FeatureSpecDigest });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.FeatureSpecName });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.FeatureNames.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter { Value = batch.Rows.Count });
            insert.Parameters.Add(new NpgsqlParameter { Value = now });
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                // The same batch under a new message id (a gateway journal replayed after a restore): keep the inbox row only.
                await transaction.CommitAsync(cancellationToken);
                telemetry.DuplicatesIgnored.Add(1);
                LogDuplicate(logger, messageId, batch.BatchId);
                return new BatchResult(BatchOutcome.Duplicate, 0);
            }
        }

        var written = await FeatureWindowCopy.WriteAsync(connection, batch.BatchId, source, batch.SiteId, batch.FeatureSpecDigest, batch.Rows, 0, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        telemetry.RowsLoaded.Add((long)written, new KeyValuePair<string, object?>("origin", "gateway"));
        return new BatchResult(BatchOutcome.Stored, written);
    }

    /// <summary>Checks a batch before anything is written; returns the problem, and the days its rows fall on.</summary>
    public static (string Reason, string Detail)? Validate(FeatureWindowsCollected batch, int maxRows, out HashSet<long> days)
    {
        ArgumentNullException.ThrowIfNull(batch);
        days = [];
        if (string.IsNullOrWhiteSpace(batch.GatewayId) || batch.GatewayId.Length > 128 || string.IsNullOrWhiteSpace(batch.SiteId) || batch.SiteId.Length > 64)
        {
            return ("bad_identity", "gateway id (≤ 128) and site id (≤ 64) are required");
        }

        if (string.IsNullOrWhiteSpace(batch.FeatureSpecDigest) || batch.FeatureSpecDigest.Length > 80)
        {
            return ("bad_spec_digest", "feature spec digest is required (≤ 80 characters)");
        }

        if (batch.FeatureNames is null || batch.FeatureNames.Count == 0 || batch.Rows is null || batch.Rows.Count == 0)
        {
            return ("empty", "a batch needs feature names and at least one row");
        }

        if (batch.Rows.Count > maxRows)
        {
            return ("too_many_rows", $"{batch.Rows.Count} rows; at most {maxRows} per batch");
        }

        for (var i = 0; i < batch.Rows.Count; i++)
        {
            var row = batch.Rows[i];
            if (row is null || string.IsNullOrEmpty(row.AssetId) || row.AssetId.Length > 128)
            {
                return ("bad_asset", $"row {i}: asset id missing or longer than 128");
            }

            if (row.Values is null || row.Values.Length != batch.FeatureNames.Count)
            {
                return ("feature_count_mismatch", $"row {i}: {row.Values?.Length ?? 0} values for {batch.FeatureNames.Count} feature names");
            }

            if (row.WindowEndUnixMs <= row.WindowStartUnixMs)
            {
                return ("bad_window", $"row {i}: window end {row.WindowEndUnixMs} is not after start {row.WindowStartUnixMs}");
            }

            days.Add(PartitionManager.DayOf(row.WindowStartUnixMs));
        }

        // A clock far off on the device would otherwise create a partition per bogus day.
        return days.Count > 31 ? ("too_many_days", $"rows span {days.Count} days; at most 31 per batch") : null;
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Feature batch {BatchId} from gateway {GatewayId} rejected: {Reason}: {Detail}")]
    private static partial void LogRejected(ILogger logger, Guid batchId, string gatewayId, string reason, string detail);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Debug, Message = "Message {MessageId} (batch {BatchId}) already stored; ignored")]
    private static partial void LogDuplicate(ILogger logger, Guid messageId, Guid batchId);
}
