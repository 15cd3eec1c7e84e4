using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using PdM.Contracts.Telemetry;
using PdM.Telemetry;
using PdM.Telemetry.Persistence;
using PdM.Telemetry.Store;

/// <summary>
/// Feature-store load throughput on the PostgreSQL of <c>ConnectionStrings__Postgres</c>, in a scratch database:
/// the store's path (validation, inbox, batch row, binary COPY per batch) against EF Core SaveChanges of the same rows
/// and against a bare NpgsqlBinaryImporter loop (one COPY per batch, nothing else). Goals: ≥ 10× SaveChanges, ≥ 0.7 of bare.
/// </summary>
internal static class FeatureStoreBenchmark
{
    private const int Features = 71;
    private const int BatchRows = 1_000;
    private const int CopyRows = 100_000;
    private const int EfRows = 10_000;
    private const int Rounds = 3;

    public static async Task RunAsync()
    {
        var c = CultureInfo.InvariantCulture;
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            Console.WriteLine("feature store: not measured (ConnectionStrings__Postgres is not set; eval \"$(infra/local/deps.sh env)\")");
            return;
        }

        var scratch = "pdm_bench_fs_" + Environment.ProcessId.ToString(c);
        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres" }.ConnectionString;
        await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{scratch}\" WITH (FORCE)");
        await ExecuteAsync(admin, $"CREATE DATABASE \"{scratch}\"");
        try
        {
            var target = new NpgsqlConnectionStringBuilder(connectionString) { Database = scratch }.ConnectionString;
            await using var dataSource = NpgsqlDataSource.Create(target);
            var dbOptions = new DbContextOptionsBuilder<TelemetryDbContext>()
                .UseNpgsql(dataSource, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", TelemetryDbContext.Schema)).Options;
            await using (var db = new TelemetryDbContext(dbOptions))
            {
                await db.Database.MigrateAsync();
            }

            await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
            using var telemetry = new FeatureStoreTelemetry(services.GetRequiredService<IMeterFactory>());
            var storeOptions = Options.Create(new FeatureStoreOptions());
            var partitions = new PartitionManager(dataSource, storeOptions, telemetry, NullLogger<PartitionManager>.Instance);
            var store = new FeatureStore(dataSource, partitions, storeOptions, telemetry, TimeProvider.System, NullLogger<FeatureStore>.Instance);

            var day = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero);
            var batches = MakeBatches(CopyRows / BatchRows, day);
            // Every path writes into the same, existing partition: the comparison is about loading, not DDL.
            await partitions.EnsureAsync([PartitionManager.DayOf(day.ToUnixTimeMilliseconds())], CancellationToken.None);

            var stored = await BestAsync(dataSource, async () =>
            {
                foreach (var batch in batches)
                {
                    var result = await store.StoreAsync(batch with { BatchId = Guid.NewGuid() }, Guid.NewGuid(), "bench", CancellationToken.None);
                    if (result.Outcome != BatchOutcome.Stored)
                    {
                        throw new InvalidOperationException("batch not stored: " + result.Reason);
                    }
                }

                return CopyRows;
            });
            var bare = await BestAsync(dataSource, async () =>
            {
                foreach (var batch in batches)
                {
                    await using var connection = await dataSource.OpenConnectionAsync();
                    await using var transaction = await connection.BeginTransactionAsync();
                    await BareCopyAsync(connection, batch);
                    await transaction.CommitAsync();
                }

                return CopyRows;
            });
            var ef = await BestAsync(dataSource, async () =>
            {
                var source = FeatureStore.GatewaySourcePrefix + "bench";
                for (var b = 0; b < EfRows / BatchRows; b++)
                {
                    var batch = batches[b];
                    var batchId = Guid.NewGuid();
                    await using var db = new TelemetryDbContext(dbOptions);
                    for (var i = 0; i < batch.Rows.Count; i++)
                    {
                        var row = batch.Rows[i];
                        db.FeatureWindows.Add(new FeatureWindowRecord
                        {
                            BatchId = batchId,
                            RowIndex = i,
                            Source = source,
                            SiteId = batch.SiteId,
                            AssetId = row.AssetId,
                            SpecDigest = batch.FeatureSpecDigest,
                            WindowStart = DateTimeOffset.FromUnixTimeMilliseconds(row.WindowStartUnixMs),
                            WindowEnd = DateTimeOffset.FromUnixTimeMilliseconds(row.WindowEndUnixMs),
                            FeatureValues = row.Values,
                        });
                    }

                    await db.SaveChangesAsync();
                }

                return EfRows;
            }, rounds: 1);

            Console.WriteLine(string.Create(c,
                $"feature store load ({Features} float features per row, {BatchRows:N0} rows per batch, best of {Rounds}; EF: {EfRows:N0} rows, one round), scratch database {scratch}:"));
            Console.WriteLine("| path | rows/s | × EF SaveChanges | of bare COPY |");
            Console.WriteLine("|---|---:|---:|---:|");
            Console.WriteLine(string.Create(c, $"| FeatureStore.StoreAsync (validate, inbox, batch row, binary COPY) | {stored:N0} | {stored / ef:F1} | {stored / bare:F2} |"));
            Console.WriteLine(string.Create(c, $"| bare NpgsqlBinaryImporter loop (one COPY per batch) | {bare:N0} | {bare / ef:F1} | 1.00 |"));
            Console.WriteLine(string.Create(c, $"| EF Core SaveChanges (AddRange per batch) | {ef:N0} | 1.0 | {ef / bare:F2} |"));
            Console.WriteLine(string.Create(c,
                $"feature store: copy_rows_s={stored:F0} bare_rows_s={bare:F0} ef_rows_s={ef:F0} copy_vs_ef={stored / ef:F1} copy_vs_bare={stored / bare:F2} (goals ≥ 10, ≥ 0.7)"));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{scratch}\" WITH (FORCE)");
        }
    }

    private static List<FeatureWindowsCollected> MakeBatches(int count, DateTimeOffset day)
    {
        var random = new Random(42);
        var t0 = day.ToUnixTimeMilliseconds();
        var names = new string[Features];
        for (var f = 0; f < Features; f++)
        {
            names[f] = "f" + f.ToString(CultureInfo.InvariantCulture);
        }

        var batches = new List<FeatureWindowsCollected>(count);
        for (var b = 0; b < count; b++)
        {
            var rows = new List<FeatureWindowRow>(BatchRows);
            for (var i = 0; i < BatchRows; i++)
            {
                var values = new float[Features];
                for (var f = 0; f < Features; f++)
                {
                    values[f] = (float)(random.NextDouble() * 100);
                }

                var start = t0 + ((((long)b * BatchRows) + i) * 500);
                rows.Add(new FeatureWindowRow { AssetId = "engine-" + (i % 100).ToString(CultureInfo.InvariantCulture), WindowStartUnixMs = start, WindowEndUnixMs = start + 30_000, Values = values });
            }

            batches.Add(new FeatureWindowsCollected
            {
                BatchId = Guid.NewGuid(),
                GatewayId = "bench",
                SiteId = "bench-site",
                FeatureSpecName = "bench",
                FeatureSpecDigest = "sha256:" + new string('b', 64),
                FeatureNames = names,
                Rows = rows,
                OccurredAt = day,
            });
        }

        return batches;
    }

    private static async Task BareCopyAsync(NpgsqlConnection connection, FeatureWindowsCollected batch)
    {
        var batchId = Guid.NewGuid();
        await using var importer = await connection.BeginBinaryImportAsync(FeatureWindowsTable.CopyCommand);
        for (var i = 0; i < batch.Rows.Count; i++)
        {
            var row = batch.Rows[i];
            await importer.StartRowAsync();
            await importer.WriteAsync(batchId, NpgsqlDbType.Uuid);
            await importer.WriteAsync(i, NpgsqlDbType.Integer);
            await importer.WriteAsync("gateway:bench", NpgsqlDbType.Varchar);
            await importer.WriteAsync(batch.SiteId, NpgsqlDbType.Varchar);
            await importer.WriteAsync(row.AssetId, NpgsqlDbType.Varchar);
            await importer.WriteAsync(batch.FeatureSpecDigest, NpgsqlDbType.Varchar);
            await importer.WriteAsync(FeatureWindowCopy.ToUtc(row.WindowStartUnixMs), NpgsqlDbType.TimestampTz);
            await importer.WriteAsync(FeatureWindowCopy.ToUtc(row.WindowEndUnixMs), NpgsqlDbType.TimestampTz);
            await importer.WriteAsync(row.Values, NpgsqlDbType.Array | NpgsqlDbType.Real);
        }

        await importer.CompleteAsync();
    }

    /// <summary>Rows per second of the best round; the table is emptied before each round so every round starts alike.</summary>
    private static async Task<double> BestAsync(NpgsqlDataSource dataSource, Func<Task<int>> load, int rounds = Rounds)
    {
        var best = 0.0;
        for (var r = 0; r < rounds; r++)
        {
            await using (var truncate = dataSource.CreateCommand("TRUNCATE telemetry.feature_windows, telemetry.feature_batches, telemetry.inbox"))
            {
                await truncate.ExecuteNonQueryAsync();
            }

            var stopwatch = Stopwatch.StartNew();
            var rows = await load();
            best = Math.Max(best, rows / stopwatch.Elapsed.TotalSeconds);
        }

        return best;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
