using System.Text.Json;
using PdM.Contracts.Registry;
using PdM.Registry.Persistence;

namespace PdM.Registry.Outbox;

/// <summary>Adds event rows to the caller's <see cref="RegistryDbContext"/>, so they commit with the change they announce.</summary>
public static class RegistryOutbox
{
    public static void Enqueue(RegistryDbContext db, ModelVersionRegistered message, DateTimeOffset now) =>
        Add(db, nameof(ModelVersionRegistered), JsonSerializer.Serialize(message, RegistryJsonContext.Default.ModelVersionRegistered), now);

    public static void Enqueue(RegistryDbContext db, ModelPromoted message, DateTimeOffset now) =>
        Add(db, nameof(ModelPromoted), JsonSerializer.Serialize(message, RegistryJsonContext.Default.ModelPromoted), now);

    public static void Enqueue(RegistryDbContext db, ModelDeploymentRequested message, DateTimeOffset now) =>
        Add(db, nameof(ModelDeploymentRequested), JsonSerializer.Serialize(message, RegistryJsonContext.Default.ModelDeploymentRequested), now);

    public static void Enqueue(RegistryDbContext db, ModelVersionRejected message, DateTimeOffset now) =>
        Add(db, nameof(ModelVersionRejected), JsonSerializer.Serialize(message, RegistryJsonContext.Default.ModelVersionRejected), now);

    private static void Add(RegistryDbContext db, string type, string json, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(db);
        db.Outbox.Add(new RegistryOutboxMessage { MessageType = type, PayloadJson = json, CreatedAt = now, NextAttemptAt = now });
    }
}

/// <summary>Wakes the dispatcher after a commit, so an event goes out at once rather than at the next poll.</summary>
public sealed class RegistryOutboxSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Set()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled: one wake-up is enough.
            }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _signal.Dispose();
}
