using PdM.Contracts.Registry;
using PdM.Persistence;
using PdM.Registry.Persistence;

namespace PdM.Registry.Outbox;

/// <summary>Adds event rows to the caller's <see cref="RegistryDbContext"/>, so they commit with the change they announce.</summary>
public static class RegistryOutbox
{
    /// <summary>
    /// One stream: registrations, promotions and deployment requests are few, and their relative order is what a
    /// gateway and the audit log must see (a promotion never before the registration of its version).
    /// </summary>
    public const string Stream = "registry";

    public static OutboxRoutes Routes { get; } = new OutboxRoutes()
        .Publish(RegistryJsonContext.Default.ModelVersionRegistered, _ => Stream)
        .Publish(RegistryJsonContext.Default.ModelPromoted, _ => Stream)
        .Publish(RegistryJsonContext.Default.ModelDeploymentRequested, _ => Stream)
        .Publish(RegistryJsonContext.Default.ModelVersionRejected, _ => Stream);

    public static void Enqueue(RegistryDbContext db, ModelVersionRegistered message, DateTimeOffset now) =>
        Add(db, Routes.Create(message, RegistryJsonContext.Default.ModelVersionRegistered, now));

    public static void Enqueue(RegistryDbContext db, ModelPromoted message, DateTimeOffset now) =>
        Add(db, Routes.Create(message, RegistryJsonContext.Default.ModelPromoted, now));

    public static void Enqueue(RegistryDbContext db, ModelDeploymentRequested message, DateTimeOffset now) =>
        Add(db, Routes.Create(message, RegistryJsonContext.Default.ModelDeploymentRequested, now));

    public static void Enqueue(RegistryDbContext db, ModelVersionRejected message, DateTimeOffset now) =>
        Add(db, Routes.Create(message, RegistryJsonContext.Default.ModelVersionRejected, now));

    private static void Add(RegistryDbContext db, OutboxMessage row)
    {
        ArgumentNullException.ThrowIfNull(db);
        db.Outbox.Add(row);
    }
}
