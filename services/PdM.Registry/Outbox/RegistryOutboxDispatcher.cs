using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Contracts.Registry;
using PdM.Persistence;
using PdM.Registry.Persistence;

namespace PdM.Registry.Outbox;

/// <summary>
/// Publishes outbox rows in order, one dispatcher at a time across hosts (a session advisory lock). Each row always
/// publishes with the same message id, so a re-publish after a crash between publish and mark is deduplicated by
/// the consumers' inboxes.
/// </summary>
public sealed partial class RegistryOutboxDispatcher(
    IServiceScopeFactory scopes,
    RegistryOutboxSignal signal,
    IOptions<RegistryOptions> options,
    RegistryTelemetry telemetry,
    TimeProvider clock,
    ILogger<RegistryOutboxDispatcher> logger) : BackgroundService
{
    /// <summary>Advisory-lock key: "pdm.registry.outbox".</summary>
    private const long LockKey = 0x7064_6D72_6567_0001;
    private const int BatchSize = 50;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = options.Value.OutboxPollInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!await DispatchOnceAsync(stoppingToken))
                {
                    await signal.WaitAsync(poll, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // Whatever broke this round (database or broker down), the loop must live to publish the next one.
                LogDispatchFailed(logger, exception);
                await Task.Delay(poll, clock, stoppingToken);
            }
        }
    }

    /// <summary>Publishes one batch of due rows; true when a full batch was found.</summary>
    public async Task<bool> DispatchOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var bus = scope.ServiceProvider.GetRequiredService<IBus>();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (!await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_lock({LockKey}) AS \"Value\"").SingleAsync(cancellationToken))
            {
                return false;
            }

            try
            {
                var now = clock.GetUtcNow();
                var due = await db.Outbox.Where(m => m.PublishedAt == null && m.NextAttemptAt <= now).OrderBy(m => m.Id).Take(BatchSize).ToListAsync(cancellationToken);
                foreach (var row in due)
                {
                    if (!await PublishAsync(bus, row, cancellationToken))
                    {
                        // Keep the order: a later event must not overtake one that failed.
                        await db.SaveChangesAsync(cancellationToken);
                        return false;
                    }

                    await db.SaveChangesAsync(cancellationToken);
                }

                return due.Count == BatchSize;
            }
            finally
            {
                await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task<bool> PublishAsync(IBus bus, RegistryOutboxMessage row, CancellationToken cancellationToken)
    {
        var messageId = OutboxPublishing.MessageId("pdm.registry.outbox", row.Id);
        try
        {
            Task publish = row.MessageType switch
            {
                nameof(ModelVersionRegistered) => OutboxPublishing.Publish(bus, row.PayloadJson, RegistryJsonContext.Default.ModelVersionRegistered, messageId, cancellationToken),
                nameof(ModelPromoted) => OutboxPublishing.Publish(bus, row.PayloadJson, RegistryJsonContext.Default.ModelPromoted, messageId, cancellationToken),
                nameof(ModelDeploymentRequested) => OutboxPublishing.Publish(bus, row.PayloadJson, RegistryJsonContext.Default.ModelDeploymentRequested, messageId, cancellationToken),
                nameof(ModelVersionRejected) => OutboxPublishing.Publish(bus, row.PayloadJson, RegistryJsonContext.Default.ModelVersionRejected, messageId, cancellationToken),
                _ => throw new InvalidOperationException($"outbox row {row.Id} names unknown message type '{row.MessageType}'"),
            };
            await publish;
            row.PublishedAt = clock.GetUtcNow();
            telemetry.EventsPublished.Add(1, new KeyValuePair<string, object?>("type", row.MessageType));
            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            row.Attempts++;
            var error = $"{exception.GetType().Name}: {exception.Message}";
            row.LastError = error.Length > 2000 ? error[..2000] : error;
            row.NextAttemptAt = clock.GetUtcNow() + TimeSpan.FromMilliseconds(Math.Min(60_000, 200 * Math.Pow(2, Math.Min(row.Attempts, 16))));
            LogPublishFailed(logger, row.MessageType, row.Id, row.Attempts, exception);
            return false;
        }
    }

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "Publishing {MessageType} (outbox row {RowId}) failed on attempt {Attempt}")]
    private static partial void LogPublishFailed(ILogger logger, string messageType, long rowId, int attempt, Exception exception);

    [LoggerMessage(EventId = 3112, Level = LogLevel.Error, Message = "Registry outbox round failed; retrying after the poll interval")]
    private static partial void LogDispatchFailed(ILogger logger, Exception exception);
}
