using System.Text;
using Microsoft.EntityFrameworkCore;

namespace PdM.Maintenance.Persistence;

public sealed class MaintenanceDbContext(DbContextOptions<MaintenanceDbContext> options) : DbContext(options)
{
    public const string Schema = "maintenance";

    public DbSet<WorkOrder> WorkOrders => Set<WorkOrder>();

    public DbSet<InboxMessage> Inbox => Set<InboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.HasDefaultSchema(Schema);

        modelBuilder.Entity<WorkOrder>(workOrder =>
        {
            workOrder.ToTable("work_orders");
            workOrder.HasKey(w => w.Id);
            workOrder.Property(w => w.SiteId).HasMaxLength(64);
            workOrder.Property(w => w.AssetId).HasMaxLength(128);
            workOrder.Property(w => w.FailureMode).HasMaxLength(32);
            workOrder.Property(w => w.ExternalKey).HasMaxLength(200);
            workOrder.Property(w => w.Status).HasConversion<string>().HasMaxLength(16);
            workOrder.Property(w => w.Priority).HasConversion<string>().HasMaxLength(16);
            workOrder.Property(w => w.Severity).HasConversion<string>().HasMaxLength(16);
            workOrder.Property(w => w.HealthState).HasConversion<string>().HasMaxLength(16);
            workOrder.Property(w => w.RulUnit).HasConversion<string>().HasMaxLength(16);
            workOrder.Property(w => w.ProvenanceJson).HasColumnType("jsonb");
            workOrder.Property(w => w.EvidenceJson).HasColumnType("jsonb");
            workOrder.Property(w => w.Version).IsRowVersion();
            workOrder.HasIndex(w => w.ExternalKey).IsUnique();

            // The database, not the consumer, guarantees one open work order per condition, even with
            // competing consumers on several hosts.
            workOrder.HasIndex(w => new { w.SiteId, w.AssetId, w.FailureMode })
                .IsUnique()
                .HasFilter("status = 'Open'")
                .HasDatabaseName("ux_work_orders_open_condition");
        });

        modelBuilder.Entity<InboxMessage>(inbox =>
        {
            inbox.ToTable("inbox");
            inbox.HasKey(m => new { m.MessageId, m.Consumer });
            inbox.Property(m => m.Consumer).HasMaxLength(100);
            inbox.HasIndex(m => m.ReceivedAt);
        });

        ApplySnakeCaseNames(modelBuilder);
    }

    /// <summary>snake_case tables and columns, so hand-written SQL and psql sessions need no quoting.</summary>
    private static void ApplySnakeCaseNames(ModelBuilder modelBuilder)
    {
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                if (property.Name != nameof(WorkOrder.Version))
                {
                    property.SetColumnName(ToSnakeCase(property.Name));
                }
            }
        }
    }

    internal static string ToSnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]))))
                {
                    builder.Append('_');
                }

                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
