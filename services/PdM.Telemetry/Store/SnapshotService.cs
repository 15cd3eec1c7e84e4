using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using PdM.Features;
using PdM.Telemetry.Persistence;
using PdM.Training;

namespace PdM.Telemetry.Store;

/// <summary>What to snapshot: rows of one source and spec whose window starts in [From, To), joined with labels of a kind.</summary>
public sealed record SnapshotRequest
{
    public required string Name { get; init; }

    public required string Source { get; init; }

    public required string SpecDigest { get; init; }

    public required string LabelKind { get; init; }

    public DateTimeOffset From { get; init; } = DateTimeOffset.UnixEpoch;

    public DateTimeOffset To { get; init; } = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);
}

/// <summary>A snapshot's rows read back, as a training set whose dataset digest is the snapshot's.</summary>
public sealed record SnapshotData(DatasetSnapshot Snapshot, FeatureSpec Spec, TrainingSet Set);

/// <summary>
/// Dataset snapshots: a recorded query with the row count and a sha256 over the ordered rows (asset, window start and
/// end, every feature value's bits, label, target, time index). Reading a snapshot runs the query again and refuses rows
/// whose digest no longer matches (retention dropped a day, a row changed): lineage stays honest.
/// </summary>
public sealed class SnapshotService(NpgsqlDataSource dataSource, TelemetryDbContext db, TimeProvider clock)
{
    /// <summary>
    /// The recorded query; parameters $1 spec digest, $2 source, $3 label kind, $4 from, $5 to. One row per asset and
    /// window end: a gateway that died before acknowledging the readings of a window it had decided decides it again
    /// after its restart and uploads it in another batch (the feature table has no key to refuse it), and that window
    /// is one training example, not two; the earliest-starting (most complete) upload, then the first batch, is kept.
    /// </summary>
    public const string Query =
        "SELECT DISTINCT ON (w.asset_id COLLATE \"C\", w.window_end) w.asset_id, w.window_start, w.window_end, w.feature_values, l.time_index, l.label, l.target " +
        "FROM telemetry.feature_windows w JOIN telemetry.labels l " +
        "ON l.source = w.source AND l.asset_id = w.asset_id AND l.at = w.window_end AND l.kind = $3 " +
        "WHERE w.spec_digest = $1 AND w.source = $2 AND w.window_start >= $4 AND w.window_start < $5 " +
        "ORDER BY w.asset_id COLLATE \"C\", w.window_end, w.window_start, w.batch_id, w.row_index";

    public async Task<DatasetSnapshot> CreateAsync(SnapshotRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (rows, digest) = await ReadRowsAsync(request.SpecDigest, request.Source, request.LabelKind, request.From, request.To, cancellationToken);
        var snapshot = new DatasetSnapshot
        {
            Id = Guid.CreateVersion7(clock.GetUtcNow()),
            Name = request.Name,
            Source = request.Source,
            SpecDigest = request.SpecDigest,
            LabelKind = request.LabelKind,
            From = request.From,
            To = request.To,
            Query = Query,
            RowCount = rows.Count,
            Digest = digest,
            CreatedAt = clock.GetUtcNow(),
        };
        db.Snapshots.Add(snapshot);
        await db.SaveChangesAsync(cancellationToken);
        return snapshot;
    }

    /// <summary>The digest the snapshot's query gives now (equal to the recorded one while the rows are unchanged).</summary>
    public async Task<(int Rows, string Digest)> RecomputeAsync(DatasetSnapshot snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var (rows, digest) = await ReadRowsAsync(snapshot.SpecDigest, snapshot.Source, snapshot.LabelKind, snapshot.From, snapshot.To, cancellationToken);
        return (rows.Count, digest);
    }

    /// <summary>The snapshot as a training set, or the reason it cannot be (unknown id or spec, rows changed).</summary>
    public async Task<(SnapshotData? Data, string? Problem)> ReadAsync(Guid snapshotId, CancellationToken cancellationToken = default)
    {
        var snapshot = await db.Snapshots.AsNoTracking().SingleOrDefaultAsync(s => s.Id == snapshotId, cancellationToken);
        if (snapshot is null)
        {
            return (null, $"snapshot {snapshotId} does not exist");
        }

        var specRecord = await db.FeatureSpecs.AsNoTracking().SingleOrDefaultAsync(s => s.Digest == snapshot.SpecDigest, cancellationToken);
        if (specRecord is null)
        {
            return (null, $"feature spec {snapshot.SpecDigest} is not registered in the store");
        }

        var (rows, digest) = await ReadRowsAsync(snapshot.SpecDigest, snapshot.Source, snapshot.LabelKind, snapshot.From, snapshot.To, cancellationToken);
        if (digest != snapshot.Digest || rows.Count != snapshot.RowCount)
        {
            return (null, $"snapshot {snapshotId} changed: recorded {snapshot.RowCount} rows {snapshot.Digest}, now {rows.Count} rows {digest}");
        }

        var assets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            assets.Add(row.AssetId);
        }

        // Rows of one asset are grouped so no asset reaches two folds; a data set of independent processes on one asset
        // (AI4I) is grouped per process instead, or every row would fall into one fold.
        var perProcess = assets.Count == 1;
        var examples = new List<TrainingExample>(rows.Count);
        foreach (var row in rows)
        {
            var group = perProcess ? row.TimeIndex.ToString(System.Globalization.CultureInfo.InvariantCulture) : row.AssetId;
            examples.Add(new TrainingExample(group, row.TimeIndex, row.Values, row.Label, row.Target));
        }

        var spec = FeatureSpec.Parse(specRecord.SpecJson);
        var set = new TrainingSet(spec, examples, snapshot.Name, snapshot.Digest["sha256:".Length..]);
        return (new SnapshotData(snapshot, spec, set), null);
    }

    private sealed record SnapshotRow(string AssetId, int TimeIndex, float[] Values, float Label, double Target);

    private async Task<(List<SnapshotRow> Rows, string Digest)> ReadRowsAsync(string specDigest, string source, string labelKind,
        DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Query);
        command.Parameters.Add(new NpgsqlParameter { Value = specDigest });
        command.Parameters.Add(new NpgsqlParameter { Value = source });
        command.Parameters.Add(new NpgsqlParameter { Value = labelKind });
        command.Parameters.Add(new NpgsqlParameter { Value = from.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter { Value = to.ToUniversalTime() });
        var rows = new List<SnapshotRow>();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[8];
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var asset = reader.GetString(0);
            var start = reader.GetFieldValue<DateTimeOffset>(1).ToUnixTimeMilliseconds();
            var end = reader.GetFieldValue<DateTimeOffset>(2).ToUnixTimeMilliseconds();
            var values = reader.GetFieldValue<float[]>(3);
            var timeIndex = reader.GetInt32(4);
            var label = reader.GetFloat(5);
            var target = reader.GetDouble(6);

            hash.AppendData(Encoding.UTF8.GetBytes(asset));
            hash.AppendData([0]);
            Append(hash, buffer, start);
            Append(hash, buffer, end);
            Append(hash, buffer, values.Length);
            foreach (var value in values)
            {
                Append(hash, buffer, BitConverter.SingleToInt32Bits(value));
            }

            Append(hash, buffer, BitConverter.SingleToInt32Bits(label));
            Append(hash, buffer, BitConverter.DoubleToInt64Bits(target));
            Append(hash, buffer, timeIndex);
            rows.Add(new SnapshotRow(asset, timeIndex, values, label, target));
        }

        return (rows, "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    private static void Append(IncrementalHash hash, byte[] buffer, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
        hash.AppendData(buffer, 0, 8);
    }

    private static void Append(IncrementalHash hash, byte[] buffer, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(buffer, value);
        hash.AppendData(buffer, 0, 4);
    }
}
