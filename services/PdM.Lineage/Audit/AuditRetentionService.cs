using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PdM.Lineage.Audit;

/// <summary>Runs <see cref="AuditLog.PruneAsync"/> every <c>Lineage:Audit:PruneInterval</c> when a retention is configured.</summary>
public sealed partial class AuditRetentionService(IServiceScopeFactory scopes, IOptions<LineageOptions> options, TimeProvider clock, ILogger<AuditRetentionService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var audit = options.Value.Audit;
        if (audit.Retention <= TimeSpan.Zero)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<AuditLog>().PruneAsync(clock.GetUtcNow() - audit.Retention, stoppingToken);
                await Task.Delay(audit.PruneInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogPruneFailed(logger, exception);
                await Task.Delay(audit.PruneInterval, clock, stoppingToken);
            }
        }
    }

    [LoggerMessage(EventId = 4111, Level = LogLevel.Error, Message = "Audit retention round failed; retrying after the prune interval")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}
