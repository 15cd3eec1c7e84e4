using Microsoft.EntityFrameworkCore;

namespace PdM.Persistence;

/// <summary>The one mapping of the outbox, its lease and the inbox; each module calls it in its own schema.</summary>
public static class OutboxModel
{
    public const int MaxErrorLength = 2000;
    public const string LeaseName = "outbox";

    /// <summary>Maps <c>outbox</c>, <c>outbox_lease</c> and <c>inbox</c> into the context's default schema.</summary>
    public static ModelBuilder AddPdMOutboxAndInbox(this ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<OutboxMessage>(outbox =>
        {
            outbox.ToTable("outbox");
            outbox.HasKey(m => m.Id);
            outbox.Property(m => m.Id).UseIdentityAlwaysColumn();
            outbox.HasIndex(m => m.MessageId).IsUnique();
            outbox.Property(m => m.Stream).HasMaxLength(200);
            outbox.Property(m => m.MessageType).HasMaxLength(100);

            // text, not jsonb: nothing queries it, and a Telemetry registration carries megabytes of base64.
            outbox.Property(m => m.PayloadJson).HasColumnType("text");
            outbox.Property(m => m.Status).HasConversion<string>().HasMaxLength(16);
            outbox.Property(m => m.LastError).HasMaxLength(MaxErrorLength);
            outbox.Property(m => m.TraceParent).HasMaxLength(55);
            outbox.Property(m => m.TraceState).HasMaxLength(512);

            // The dispatcher's question: the pending rows of each stream, oldest first.
            outbox.HasIndex(m => new { m.Stream, m.Id }).HasFilter("status = 'Pending'");
            outbox.HasIndex(m => m.DeliveredAt).HasFilter("delivered_at IS NOT NULL");
        });

        modelBuilder.Entity<OutboxLease>(lease =>
        {
            lease.ToTable("outbox_lease");
            lease.HasKey(l => l.Name);
            lease.Property(l => l.Name).HasMaxLength(64);
            lease.Property(l => l.Holder).HasMaxLength(200);
        });

        modelBuilder.Entity<InboxMessage>(inbox =>
        {
            inbox.ToTable("inbox");
            inbox.HasKey(m => new { m.MessageId, m.Consumer });
            inbox.Property(m => m.Consumer).HasMaxLength(100);
            inbox.HasIndex(m => m.ReceivedAt);
        });

        // snake_case here, whatever the module's convention: the dispatcher, the lease and the inbox use hand-written SQL.
        foreach (var type in new[] { typeof(OutboxMessage), typeof(OutboxLease), typeof(InboxMessage) })
        {
            foreach (var property in modelBuilder.Model.FindEntityType(type)!.GetProperties())
            {
                property.SetColumnName(SnakeCaseNaming.ToSnakeCase(property.Name));
            }
        }

        return modelBuilder;
    }

    /// <summary><c>"schema"."table"</c> of <typeparamref name="TEntity"/> in <paramref name="db"/>'s model, for hand-written SQL.</summary>
    internal static string Table<TEntity>(DbContext db)
    {
        var entity = db.Model.FindEntityType(typeof(TEntity)) ?? throw new InvalidOperationException(
            $"{db.GetType().Name} does not map {typeof(TEntity).Name}: call modelBuilder.AddPdMOutboxAndInbox() in OnModelCreating");
        var schema = entity.GetSchema();
        return schema is null ? Quote(entity.GetTableName()!) : $"{Quote(schema)}.{Quote(entity.GetTableName()!)}";
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
