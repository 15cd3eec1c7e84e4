using Npgsql;
using NpgsqlTypes;
using PdM.Contracts.Telemetry;
using PdM.Telemetry.Persistence;

namespace PdM.Telemetry.Store;

/// <summary>Binary COPY of feature windows into the partitioned table, inside the connection's current transaction.</summary>
public static class FeatureWindowCopy
{
    public static DateTime ToUtc(long unixMs) => new(DateTime.UnixEpoch.Ticks + (unixMs * TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);

    /// <summary>
    /// Writes every row; <paramref name="shiftMs"/> moves window times (dataset imports anchor their relative clocks
    /// to a real day). Returns the rows written.
    /// </summary>
    public static async Task<ulong> WriteAsync(NpgsqlConnection connection, Guid batchId, string source, string siteId, string specDigest,
        IReadOnlyList<FeatureWindowRow> rows, long shiftMs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(rows);
        await using var importer = await connection.BeginBinaryImportAsync(FeatureWindowsTable.CopyCommand, cancellationToken);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(batchId, NpgsqlDbType.Uuid, cancellationToken);
            await importer.WriteAsync(i, NpgsqlDbType.Integer, cancellationToken);
            await importer.WriteAsync(source, NpgsqlDbType.Varchar, cancellationToken);
            await importer.WriteAsync(siteId, NpgsqlDbType.Varchar, cancellationToken);
            await importer.WriteAsync(row.AssetId, NpgsqlDbType.Varchar, cancellationToken);
            await importer.WriteAsync(specDigest, NpgsqlDbType.Varchar, cancellationToken);
            await importer.WriteAsync(ToUtc(row.WindowStartUnixMs + shiftMs), NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(ToUtc(row.WindowEndUnixMs + shiftMs), NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(row.Values, NpgsqlDbType.Array | NpgsqlDbType.Real, cancellationToken);
        }

        return await importer.CompleteAsync(cancellationToken);
    }
}
