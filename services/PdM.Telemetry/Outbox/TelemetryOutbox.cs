using System.Text.Json.Serialization.Metadata;
using PdM.Contracts.Registry;
using PdM.Contracts.Training;
using PdM.Persistence;
using PdM.Telemetry.Persistence;

namespace PdM.Telemetry.Outbox;

/// <summary>
/// Adds a message to the caller's <see cref="TelemetryDbContext"/>: it commits with the caller's next
/// <c>SaveChanges</c> (one transaction with the state change), then <see cref="Wake"/> sends the dispatcher after it.
/// </summary>
public sealed class TelemetryOutbox(OutboxSignal<TelemetryDbContext> signal)
{
    /// <summary>Configuration section of the module's <see cref="OutboxOptions"/>.</summary>
    public const string Section = "TelemetryOutbox";

    /// <summary>
    /// A stream per training run: a run's events go out in order, and a registration too big or too slow for the broker
    /// holds back only its own run.
    /// </summary>
    public static OutboxRoutes Routes { get; } = new OutboxRoutes()
        .Publish(TrainingContractsJsonContext.Default.TrainingRunProgressed, m => RunStream(m.RunId))
        .Publish(TrainingContractsJsonContext.Default.TrainingRunCompleted, m => RunStream(m.RunId))
        .Publish(RegistryJsonContext.Default.RegisterTrainedModel, m => RunStream(m.TrainingRunId));

    /// <summary>Throws when <typeparamref name="T"/> has no route in <see cref="Routes"/> (a row nothing can publish).</summary>
    public static void Add<T>(TelemetryDbContext db, T message, JsonTypeInfo<T> type, DateTimeOffset now)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(db);
        db.Outbox.Add(Routes.Create(message, type, now));
    }

    /// <summary>Call after the commit; several calls before the dispatcher runs make one wake-up.</summary>
    public void Wake() => signal.Wake();

    private static string RunStream(Guid runId) => "training-run:" + runId.ToString("N");
}
