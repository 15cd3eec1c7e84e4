using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using PdM.Contracts.Telemetry;
using PdM.Features;
using PdM.Telemetry.Persistence;
using PdM.Training;

namespace PdM.Telemetry.Store;

/// <summary>The result of an import: where the rows went and how many; <see cref="AlreadyImported"/> when nothing was written.</summary>
public sealed record DatasetImportResult(string Source, string SpecDigest, Guid BatchId, int Rows, int Labels, bool AlreadyImported, DateTimeOffset Anchor);

/// <summary>
/// Public data sets into the feature store, with features from PdM.Training's importers and
/// <see cref="FeatureEngine.ComputeOffline"/> (the gateway's engine) and labels beside them. A data set's clock starts at
/// 0 (cycle × 1 s, process number × 1 s); it is anchored to a UTC day so its rows land in a real partition.
/// Importing the same file with the same spec twice writes nothing the second time.
/// </summary>
public sealed class DatasetImporter(NpgsqlDataSource dataSource, PartitionManager partitions, FeatureStoreTelemetry telemetry, TimeProvider clock)
{
    public const string SiteId = "datasets";
    public const string SourcePrefix = "dataset:";

    /// <summary>C-MAPSS run-to-failure file: label = min(<paramref name="rulCap"/>, T_fail − t) at each window's last cycle.</summary>
    public Task<DatasetImportResult> ImportCmapssAsync(string trainFile, FeatureSpec spec, int rulCap = CmapssTraining.DefaultRulCap,
        DateTimeOffset? anchor = null, CancellationToken cancellationToken = default) =>
        ImportCmapssAsync(CmapssDataset.Load(trainFile), spec, rulCap, anchor, cancellationToken);

    /// <summary>As above, for a file already read (an upload).</summary>
    public Task<DatasetImportResult> ImportCmapssAsync(CmapssDataset dataset, FeatureSpec spec, int rulCap = CmapssTraining.DefaultRulCap,
        DateTimeOffset? anchor = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rulCap);
        var vectors = CmapssTraining.ComputeFeatures(dataset, spec);
        var rows = new List<FeatureWindowRow>(vectors.Count);
        var labels = new List<ImportedLabel>(vectors.Count);
        foreach (var v in vectors)
        {
            var cycle = CmapssDataset.CycleOf(v);
            var rul = dataset.LastCycle(CmapssDataset.UnitOf(v.AssetId)) - cycle;
            rows.Add(new FeatureWindowRow { AssetId = v.AssetId, WindowStartUnixMs = v.WindowStartUnixMs, WindowEndUnixMs = v.WindowEndUnixMs, Values = v.Values });
            labels.Add(new ImportedLabel(v.AssetId, v.WindowEndUnixMs, cycle, Math.Min(rulCap, rul), rul));
        }

        var source = SourcePrefix + dataset.Name + (rulCap == CmapssTraining.DefaultRulCap ? string.Empty : "-cap" + rulCap.ToString(CultureInfo.InvariantCulture));
        return WriteAsync(source, "cmapss-" + dataset.Name, spec, dataset.Sha256, LabelKinds.Rul, rows, labels, anchor, cancellationToken);
    }

    /// <summary>AI4I 2020: one window per process, label <c>Machine failure</c>; the failure-mode columns are never read.</summary>
    public Task<DatasetImportResult> ImportAi4iAsync(string dataFile, FeatureSpec spec, DateTimeOffset? anchor = null, CancellationToken cancellationToken = default) =>
        ImportAi4iAsync(Ai4iDataset.Load(dataFile), spec, anchor, cancellationToken);

    /// <summary>As above, for a file already read (an upload).</summary>
    public Task<DatasetImportResult> ImportAi4iAsync(Ai4iDataset dataset, FeatureSpec spec, DateTimeOffset? anchor = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(spec);
        var failures = new Dictionary<int, bool>(dataset.Rows.Count);
        foreach (var row in dataset.Rows)
        {
            failures[row.Udi] = row.MachineFailure;
        }

        var vectors = FeatureEngine.ComputeOffline(spec, dataset.Readings());
        var rows = new List<FeatureWindowRow>(vectors.Count);
        var labels = new List<ImportedLabel>(vectors.Count);
        foreach (var v in vectors)
        {
            var udi = Ai4iDataset.UdiOf(v);
            var label = failures[udi] ? 1f : 0f;
            rows.Add(new FeatureWindowRow { AssetId = v.AssetId, WindowStartUnixMs = v.WindowStartUnixMs, WindowEndUnixMs = v.WindowEndUnixMs, Values = v.Values });
            labels.Add(new ImportedLabel(v.AssetId, v.WindowEndUnixMs, udi, label, label));
        }

        return WriteAsync(SourcePrefix + "ai4i2020", "ai4i2020", spec, dataset.Sha256, LabelKinds.Failure, rows, labels, anchor, cancellationToken);
    }

    private async Task<DatasetImportResult> WriteAsync(string source, string specName, FeatureSpec spec, string fileSha256, string labelKind,
        List<FeatureWindowRow> rows, List<ImportedLabel> labels, DateTimeOffset? anchor, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var anchorDay = PartitionManager.DayOf((anchor ?? now).ToUnixTimeMilliseconds());
        var shiftMs = anchorDay * 86_400_000;
        var anchorTime = DateTimeOffset.FromUnixTimeMilliseconds(shiftMs);
        var digest = FeatureSpecDigest.Compute(spec);
        var batchId = Guid.CreateVersion7(now);

        var days = new HashSet<long>();
        foreach (var row in rows)
        {
            days.Add(PartitionManager.DayOf(row.WindowStartUnixMs + shiftMs));
        }

        await partitions.EnsureAsync(days, cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var register = new NpgsqlCommand(
            "INSERT INTO telemetry.feature_specs (digest, name, spec_json, registered_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", connection))
        {
            register.Parameters.Add(new NpgsqlParameter { Value = digest });
            register.Parameters.Add(new NpgsqlParameter { Value = specName });
            register.Parameters.Add(new NpgsqlParameter { Value = spec.ToJson() });
            register.Parameters.Add(new NpgsqlParameter { Value = now });
            await register.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var import = new NpgsqlCommand(
            "INSERT INTO telemetry.dataset_imports (source, spec_digest, file_sha256, batch_id, rows, labels, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            connection))
        {
            import.Parameters.Add(new NpgsqlParameter { Value = source });
            import.Parameters.Add(new NpgsqlParameter { Value = digest });
            import.Parameters.Add(new NpgsqlParameter { Value = fileSha256 });
            import.Parameters.Add(new NpgsqlParameter { Value = batchId });
            import.Parameters.Add(new NpgsqlParameter { Value = rows.Count });
            import.Parameters.Add(new NpgsqlParameter { Value = labels.Count });
            import.Parameters.Add(new NpgsqlParameter { Value = now });
            if (await import.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                return new DatasetImportResult(source, digest, batchId, 0, 0, AlreadyImported: true, anchorTime);
            }
        }

        await using (var batch = new NpgsqlCommand(
            "INSERT INTO telemetry.feature_batches (batch_id, source, site_id, spec_digest, spec_name, feature_names, row_count, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            connection))
        {
            var names = new string[spec.Features.Count];
            for (var i = 0; i < names.Length; i++)
            {
                names[i] = spec.Features[i].Name;
            }

            batch.Parameters.Add(new NpgsqlParameter { Value = batchId });
            batch.Parameters.Add(new NpgsqlParameter { Value = source });
            batch.Parameters.Add(new NpgsqlParameter { Value = SiteId });
            batch.Parameters.Add(new NpgsqlParameter { Value = digest });
            batch.Parameters.Add(new NpgsqlParameter { Value = specName });
            batch.Parameters.Add(new NpgsqlParameter { Value = names, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            batch.Parameters.Add(new NpgsqlParameter { Value = rows.Count });
            batch.Parameters.Add(new NpgsqlParameter { Value = now });
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        var written = await FeatureWindowCopy.WriteAsync(connection, batchId, source, SiteId, digest, rows, shiftMs, cancellationToken);
        var labelled = await LabelCopy.WriteAsync(connection, source, SiteId, labelKind, labels, shiftMs, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        telemetry.RowsLoaded.Add((long)written, new KeyValuePair<string, object?>("origin", "dataset"));
        telemetry.LabelsRecorded.Add((long)labelled, new KeyValuePair<string, object?>("source", "dataset"));
        return new DatasetImportResult(source, digest, batchId, (int)written, (int)labelled, AlreadyImported: false, anchorTime);
    }
}
