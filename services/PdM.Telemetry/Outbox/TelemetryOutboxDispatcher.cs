using System.Collections.Frozen;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Contracts.Registry;
using PdM.Contracts.Training;
using PdM.Persistence;
using PdM.Telemetry.Persistence;

namespace PdM.Telemetry.Outbox;

/// <summary>
/// Publishes the module's outbox rows in commit order. One host at a time holds the round (a transaction-scoped
/// advisory lock), so two hosts never interleave a run's events. A publish that fails or is not confirmed within
/// <see cref="TelemetryOutboxOptions.PublishTimeout"/> stops the round (nothing overtakes it) and is retried with
/// exponential backoff; the row keeps one message id for every attempt, so an attempt that did reach the broker and
/// its retry are one message to the consumers' inboxes.
/// </summary>
public sealed partial class TelemetryOutboxDispatcher(
    IServiceScopeFactory scopes,
    TelemetryOutbox outbox,
    IOptions<TelemetryOutboxOptions> options,
    FeatureStoreTelemetry telemetry,
    TimeProvider clock,
    ILogger<TelemetryOutboxDispatcher> logger) : BackgroundService
{
    /// <summary>Advisory-lock key: "pdm.telemetry.outbox".</summary>
    private const long RoundLock = 0x7064_6D74_656C_0001;
    private const int RowsPerRound = 20;

    private static readonly FrozenDictionary<string, Func<IBus, string, Guid, CancellationToken, Task>> Publishers =
        new Dictionary<string, Func<IBus, string, Guid, CancellationToken, Task>>(StringComparer.Ordinal)
        {
            [nameof(TrainingRunProgressed)] = (bus, json, id, ct) => OutboxPublishing.Publish(bus, json, TrainingContractsJsonContext.Default.TrainingRunProgressed, id, ct),
            [nameof(TrainingRunCompleted)] = (bus, json, id, ct) => OutboxPublishing.Publish(bus, json, TrainingContractsJsonContext.Default.TrainingRunCompleted, id, ct),
            [nameof(RegisterTrainedModel)] = (bus, json, id, ct) => OutboxPublishing.Publish(bus, json, RegistryJsonContext.Default.RegisterTrainedModel, id, ct),
        }.ToFrozenDictionary(StringComparer.Ordinal);

    private DateTimeOffset _nextCleanup;

    /// <summary>Whether rows of this type can be published (a row no publisher knows would hold up every row behind it).</summary>
    public static bool Publishes(string messageType) => Publishers.ContainsKey(messageType);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            bool more;
            try
            {
                more = await RunRoundAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The database is away (or anything else broke the round): the rows wait in the table, try again later.
                LogRoundFailed(logger, exception);
                more = false;
            }

            if (!more)
            {
                await outbox.WaitAsync(settings.PollInterval, stoppingToken);
            }
        }
    }

    /// <summary>One round: publishes due rows in order until one fails; true when a full round was published (more may wait).</summary>
    public async Task<bool> RunRoundAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TelemetryDbContext>();
        var bus = scope.ServiceProvider.GetRequiredService<IBus>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var locked = await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_xact_lock({RoundLock}) AS \"Value\"").SingleAsync(cancellationToken);
        if (!locked)
        {
            return false;
        }

        var now = clock.GetUtcNow();
        var pending = await db.Outbox.Where(m => m.PublishedAt == null).OrderBy(m => m.Id).Take(RowsPerRound).ToListAsync(cancellationToken);
        var published = 0;
        foreach (var row in pending)
        {
            if (row.NextAttemptAt > now || !await TryPublishAsync(bus, row, cancellationToken))
            {
                // In order or not at all: a run's later event must not overtake an earlier one still waiting.
                break;
            }

            published++;
        }

        if (now >= _nextCleanup)
        {
            var cutoff = now - options.Value.Retention;
            await db.Outbox.Where(m => m.PublishedAt != null && m.PublishedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
            _nextCleanup = now + TimeSpan.FromMinutes(10);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return published == RowsPerRound;
    }

    private async Task<bool> TryPublishAsync(IBus bus, TelemetryOutboxMessage row, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.PublishTimeout);
        try
        {
            if (!Publishers.TryGetValue(row.MessageType, out var publish))
            {
                throw new InvalidOperationException($"no publisher for outbox message type '{row.MessageType}'");
            }

            await publish(bus, row.PayloadJson, OutboxPublishing.MessageId("pdm.telemetry.outbox", row.Id), deadline.Token);
            row.PublishedAt = clock.GetUtcNow();
            row.LastError = null;
            telemetry.OutboxPublished.Add(1, new KeyValuePair<string, object?>("type", row.MessageType));
            return true;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            row.Attempts++;
            var reason = exception is OperationCanceledException
                ? $"not confirmed by the broker within {settings.PublishTimeout}"
                : exception.GetType().Name + ": " + exception.Message;
            row.LastError = reason.Length > 2000 ? reason[..2000] : reason;
            row.NextAttemptAt = clock.GetUtcNow() + BackoffAfter(row.Attempts, settings);
            telemetry.OutboxPublishFailures.Add(1, new KeyValuePair<string, object?>("type", row.MessageType));
            LogPublishFailed(logger, row.MessageType, row.Id, row.Attempts, row.NextAttemptAt, row.LastError);
            return false;
        }
    }

    /// <summary>base · 2^(attempts-1), capped, scaled by a random 0.75..1.25 so hosts that failed together do not retry together.</summary>
    public static TimeSpan BackoffAfter(int attempts, TelemetryOutboxOptions settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var doubled = settings.BackoffBase.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        var capped = Math.Min(doubled, settings.MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.75 + (Random.Shared.NextDouble() / 2)));
    }

    [LoggerMessage(EventId = 7311, Level = LogLevel.Warning, Message = "Publishing {MessageType} (telemetry outbox row {RowId}) failed on attempt {Attempt}; next attempt at {NextAttemptAt:O}: {Error}")]
    private static partial void LogPublishFailed(ILogger logger, string messageType, long rowId, int attempt, DateTimeOffset nextAttemptAt, string error);

    [LoggerMessage(EventId = 7312, Level = LogLevel.Error, Message = "Telemetry outbox round failed; the rows wait for the next round")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
