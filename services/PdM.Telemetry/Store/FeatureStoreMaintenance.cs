using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace PdM.Telemetry.Store;

/// <summary>Creates partitions ahead of time and applies retention, at start and every <see cref="FeatureStoreOptions.MaintenanceInterval"/>.</summary>
public sealed partial class FeatureStoreMaintenance(PartitionManager partitions, NpgsqlDataSource dataSource, IOptions<FeatureStoreOptions> options, TimeProvider clock,
    ILogger<FeatureStoreMaintenance> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.MaintenanceInterval, clock);
        do
        {
            try
            {
                // One replica per round creates and drops partitions; DDL from two at once would only contend.
                await PdM.Persistence.ExclusiveRun.TryAsync(dataSource, "telemetry.feature-store-maintenance", async ct =>
                {
                    await partitions.CreateAheadAsync(clock.GetUtcNow(), ct);
                    await partitions.DropExpiredAsync(clock.GetUtcNow(), ct);
                }, stoppingToken);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                // The database is down or not migrated yet: try again next round, loads create their own days meanwhile.
                LogFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 7102, Level = LogLevel.Warning, Message = "Feature-store partition maintenance failed; retrying next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
