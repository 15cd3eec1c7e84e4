using Microsoft.EntityFrameworkCore;
using PdM.Persistence;

namespace PdM.Maintenance.Persistence;

public sealed class MaintenanceDbContext(DbContextOptions<MaintenanceDbContext> options) : DbContext(options)
{
    public const string Schema = "maintenance";

    public DbSet<WorkOrder> WorkOrders => Set<WorkOrder>();

    public DbSet<InboxMessage> Inbox => Set<InboxMessage>();

    public DbSet<MaintenanceCase> Cases => Set<MaintenanceCase>();

    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();

    public DbSet<PredictionRejection> Rejections => Set<PredictionRejection>();

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
            workOrder.Property(w => w.Kind).HasMaxLength(16);
            workOrder.Property(w => w.Criticality).HasMaxLength(1);
            workOrder.Property(w => w.CmmsSystem).HasMaxLength(16);
            workOrder.Property(w => w.CmmsRecordId).HasMaxLength(64);
            workOrder.Property(w => w.CmmsUrl).HasMaxLength(1000);
            workOrder.Property(w => w.CmmsReference).HasMaxLength(200);
            workOrder.Property(w => w.CmmsStatus).HasMaxLength(32);
            workOrder.Property(w => w.DeliveryState).HasConversion<string>().HasMaxLength(16);
            workOrder.Property(w => w.DeliveryError).HasMaxLength(2000);
            workOrder.Property(w => w.ParkedReason).HasMaxLength(64);
            workOrder.HasIndex(w => w.CaseId);

            // The database, not the consumer, guarantees one open work order per condition, even with
            // competing consumers on several hosts.
            workOrder.HasIndex(w => new { w.SiteId, w.AssetId, w.FailureMode })
                .IsUnique()
                .HasFilter("status = 'Open'")
                .HasDatabaseName("ux_work_orders_open_condition");
        });

        modelBuilder.AddPdMOutboxAndInbox();

        modelBuilder.Entity<MaintenanceCase>(@case =>
        {
            @case.ToTable("cases");
            @case.HasKey(c => c.Id);
            @case.Property(c => c.SiteId).HasMaxLength(64);
            @case.Property(c => c.AssetId).HasMaxLength(128);
            @case.Property(c => c.FailureMode).HasMaxLength(32);
            @case.Property(c => c.Status).HasConversion<string>().HasMaxLength(16);
            @case.Property(c => c.Priority).HasConversion<string>().HasMaxLength(16);
            @case.Property(c => c.Criticality).HasMaxLength(1);
            @case.Property(c => c.Outcome).HasConversion<string>().HasMaxLength(32);
            @case.Property(c => c.FailureCode).HasMaxLength(64);
            @case.Property(c => c.SourcePredictionIdsJson).HasColumnType("jsonb");
            @case.Property(c => c.Version).IsRowVersion();
            @case.HasIndex(c => new { c.SiteId, c.AssetId, c.FailureMode })
                .IsUnique()
                .HasFilter("status = 'Open'")
                .HasDatabaseName("ux_cases_open_condition");
            @case.HasIndex(c => new { c.SiteId, c.AssetId, c.FailureMode, c.ClosedAt });
        });

        modelBuilder.Entity<PredictionRejection>(rejection =>
        {
            rejection.ToTable("rejections");
            rejection.HasKey(r => r.Id);
            rejection.Property(r => r.SiteId).HasMaxLength(64);
            rejection.Property(r => r.AssetId).HasMaxLength(128);
            rejection.Property(r => r.FailureMode).HasMaxLength(32);
            rejection.Property(r => r.Reason).HasMaxLength(32);
            rejection.Property(r => r.Detail).HasMaxLength(1000);
            rejection.HasIndex(r => r.ReceivedAt);
        });

        modelBuilder.UseSnakeCaseColumns(keep: property => property.Name == nameof(WorkOrder.Version));
    }
}
