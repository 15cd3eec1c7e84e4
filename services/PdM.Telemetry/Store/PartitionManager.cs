using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using PdM.Telemetry.Persistence;

namespace PdM.Telemetry.Store;

/// <summary>
/// Daily range partitions of <c>telemetry.feature_windows</c> (<c>feature_windows_pYYYYMMDD</c>, [day, day + 1)):
/// created on demand before a load and ahead of time by the maintenance loop; dropped whole by retention.
/// </summary>
public sealed partial class PartitionManager(NpgsqlDataSource dataSource, IOptions<FeatureStoreOptions> options, FeatureStoreTelemetry telemetry, ILogger<PartitionManager> logger)
{
    private const string Prefix = FeatureWindowsTable.Name + "_p";
    private const long MillisecondsPerDay = 86_400_000;
    private readonly ConcurrentDictionary<long, bool> _known = new();

    /// <summary>Day number (days since the Unix epoch, UTC) of a timestamp in Unix milliseconds.</summary>
    public static long DayOf(long unixMs) => unixMs >= 0 ? unixMs / MillisecondsPerDay : ((unixMs + 1) / MillisecondsPerDay) - 1;

    public static string PartitionName(long day) =>
        Prefix + DateTime.UnixEpoch.AddDays(day).ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>Creates the partitions of every day in <paramref name="days"/> that does not exist yet.</summary>
    public async Task EnsureAsync(IReadOnlyCollection<long> days, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(days);
        foreach (var day in days)
        {
            if (_known.ContainsKey(day))
            {
                continue;
            }

            var from = DateTime.UnixEpoch.AddDays(day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var to = DateTime.UnixEpoch.AddDays(day + 1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var name = PartitionName(day);
            await using var command = dataSource.CreateCommand(
                $"CREATE TABLE IF NOT EXISTS {TelemetryDbContext.Schema}.{name} PARTITION OF {FeatureWindowsTable.QualifiedName} " +
                $"FOR VALUES FROM ('{from} 00:00:00+00') TO ('{to} 00:00:00+00')");
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
                telemetry.PartitionsCreated.Add(1);
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.DuplicateTable or PostgresErrorCodes.UniqueViolation)
            {
                // Another consumer or host created it between our check and our CREATE: what we wanted.
            }

            _known[day] = true;
        }
    }

    /// <summary>Creates today's partition and <see cref="FeatureStoreOptions.CreateAheadDays"/> after it.</summary>
    public Task CreateAheadAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var today = DayOf(now.ToUnixTimeMilliseconds());
        var days = new List<long>();
        for (var d = 0; d <= options.Value.CreateAheadDays; d++)
        {
            days.Add(today + d);
        }

        return EnsureAsync(days, cancellationToken);
    }

    /// <summary>Forgets what was created (after a load found a partition missing, e.g. dropped by another host).</summary>
    public void Forget() => _known.Clear();

    /// <summary>The existing partitions, oldest first.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent " +
            "JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = $1 AND p.relname = $2 ORDER BY c.relname");
        command.Parameters.Add(new NpgsqlParameter { Value = TelemetryDbContext.Schema });
        command.Parameters.Add(new NpgsqlParameter { Value = FeatureWindowsTable.Name });
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    /// <summary>Drops every partition whose whole day lies before now − <see cref="FeatureStoreOptions.RetentionDays"/>.</summary>
    public async Task<IReadOnlyList<string>> DropExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var cutoffDay = DayOf(now.ToUnixTimeMilliseconds()) - options.Value.RetentionDays;
        var dropped = new List<string>();
        foreach (var name in await ListAsync(cancellationToken))
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)
                || !DateTime.TryParseExact(name.AsSpan(Prefix.Length), "yyyyMMdd", CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var date))
            {
                continue;
            }

            var day = (long)(date - DateTime.UnixEpoch).TotalDays;
            if (day + 1 > cutoffDay)
            {
                continue;
            }

            await using var command = dataSource.CreateCommand($"DROP TABLE IF EXISTS {TelemetryDbContext.Schema}.{name}");
            await command.ExecuteNonQueryAsync(cancellationToken);
            _known.TryRemove(day, out _);
            dropped.Add(name);
            telemetry.PartitionsDropped.Add(1);
            LogDropped(logger, name, options.Value.RetentionDays);
        }

        return dropped;
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Dropped feature partition {Partition} (retention {RetentionDays} days)")]
    private static partial void LogDropped(ILogger logger, string partition, int retentionDays);
}
