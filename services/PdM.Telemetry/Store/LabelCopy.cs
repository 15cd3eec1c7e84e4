using Npgsql;
using NpgsqlTypes;

namespace PdM.Telemetry.Store;

/// <summary>A label as a dataset importer produces it (window end in the data set's own clock).</summary>
public sealed record ImportedLabel(string AssetId, long AtUnixMs, int TimeIndex, float Label, double Target);

/// <summary>Binary COPY of dataset labels, inside the connection's current transaction.</summary>
internal static class LabelCopy
{
    public static async Task<ulong> WriteAsync(NpgsqlConnection connection, string source, string siteId, string kind, IReadOnlyList<ImportedLabel> labels,
        long shiftMs, DateTimeOffset recordedAt, CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync(
            "COPY telemetry.labels (id, source, site_id, asset_id, kind, at, time_index, label, target, recorded_at) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        foreach (var label in labels)
        {
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(Guid.CreateVersion7(recordedAt), NpgsqlDbType.Uuid, cancellationToken);
            await importer.WriteAsync(source, NpgsqlDbType.Varchar, cancellationToken);
            await importer.WriteAsync(siteId, NpgsqlDbType.Varchar, cancellationToken);
            await importer.WriteAsync(label.AssetId, NpgsqlDbType.Varchar, cancellationToken);
            await importer.WriteAsync(kind, NpgsqlDbType.Varchar, cancellationToken);
            await importer.WriteAsync(FeatureWindowCopy.ToUtc(label.AtUnixMs + shiftMs), NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(label.TimeIndex, NpgsqlDbType.Integer, cancellationToken);
            await importer.WriteAsync(label.Label, NpgsqlDbType.Real, cancellationToken);
            await importer.WriteAsync(label.Target, NpgsqlDbType.Double, cancellationToken);
            await importer.WriteAsync(recordedAt, NpgsqlDbType.TimestampTz, cancellationToken);
        }

        return await importer.CompleteAsync(cancellationToken);
    }
}
