using Microsoft.EntityFrameworkCore;
using PdM.Persistence;

namespace PdM.Telemetry.Persistence;

public sealed class TelemetryDbContext(DbContextOptions<TelemetryDbContext> options) : DbContext(options)
{
    public const string Schema = "telemetry";

    public DbSet<InboxMessage> Inbox => Set<InboxMessage>();

    public DbSet<FeatureBatch> Batches => Set<FeatureBatch>();

    public DbSet<FeatureWindowRecord> FeatureWindows => Set<FeatureWindowRecord>();

    public DbSet<FeatureSpecRecord> FeatureSpecs => Set<FeatureSpecRecord>();

    public DbSet<LabelRecord> Labels => Set<LabelRecord>();

    public DbSet<DatasetImport> Imports => Set<DatasetImport>();

    public DbSet<DatasetSnapshot> Snapshots => Set<DatasetSnapshot>();

    public DbSet<TrainingRunRecord> TrainingRuns => Set<TrainingRunRecord>();

    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.HasDefaultSchema(Schema);

        modelBuilder.AddPdMOutboxAndInbox();

        modelBuilder.Entity<FeatureBatch>(batch =>
        {
            batch.ToTable("feature_batches");
            batch.HasKey(b => b.BatchId);
            batch.Property(b => b.Source).HasMaxLength(200);
            batch.Property(b => b.SiteId).HasMaxLength(64);
            batch.Property(b => b.SpecDigest).HasMaxLength(80);
            batch.Property(b => b.SpecName).HasMaxLength(200);
            batch.HasIndex(b => b.ReceivedAt);
        });

        // The partitioned parent is created by the migration's SQL (FeatureWindowsTable.CreateSql).
        modelBuilder.Entity<FeatureWindowRecord>(window =>
        {
            window.ToTable(FeatureWindowsTable.Name, t => t.ExcludeFromMigrations());
            window.HasKey(w => new { w.BatchId, w.RowIndex, w.WindowStart });
            window.Property(w => w.FeatureValues).HasColumnType("real[]");
        });

        modelBuilder.Entity<FeatureSpecRecord>(spec =>
        {
            spec.ToTable("feature_specs");
            spec.HasKey(s => s.Digest);
            spec.Property(s => s.Digest).HasMaxLength(80);
            spec.Property(s => s.Name).HasMaxLength(200);
        });

        modelBuilder.Entity<LabelRecord>(label =>
        {
            label.ToTable("labels");
            label.HasKey(l => l.Id);
            label.Property(l => l.Source).HasMaxLength(200);
            label.Property(l => l.SiteId).HasMaxLength(64);
            label.Property(l => l.AssetId).HasMaxLength(128);
            label.Property(l => l.Kind).HasMaxLength(16);
            label.Property(l => l.FailureMode).HasMaxLength(32);
            label.HasIndex(l => new { l.Source, l.AssetId, l.At });
            label.HasIndex(l => l.OutcomeId).IsUnique();
        });

        modelBuilder.Entity<DatasetImport>(import =>
        {
            import.ToTable("dataset_imports");
            import.HasKey(i => new { i.Source, i.SpecDigest });
            import.Property(i => i.Source).HasMaxLength(200);
            import.Property(i => i.SpecDigest).HasMaxLength(80);
            import.Property(i => i.FileSha256).HasMaxLength(80);
        });

        modelBuilder.Entity<DatasetSnapshot>(snapshot =>
        {
            snapshot.ToTable("dataset_snapshots");
            snapshot.HasKey(s => s.Id);
            snapshot.Property(s => s.Name).HasMaxLength(200);
            snapshot.Property(s => s.Source).HasMaxLength(200);
            snapshot.Property(s => s.SpecDigest).HasMaxLength(80);
            snapshot.Property(s => s.LabelKind).HasMaxLength(16);
            snapshot.Property(s => s.Digest).HasMaxLength(80);
        });

        modelBuilder.Entity<TrainingRunRecord>(run =>
        {
            run.ToTable("training_runs");
            run.HasKey(r => r.Id);
            run.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
            run.Property(r => r.Stage).HasMaxLength(32);
            run.Property(r => r.RequestJson).HasColumnType("jsonb");
            run.Property(r => r.MetricsJson).HasColumnType("jsonb");
            run.Property(r => r.DatasetDigest).HasMaxLength(80);
            run.Property(r => r.ModelName).HasMaxLength(200);
            run.Property(r => r.ModelVersion).HasMaxLength(64);
            run.Property(r => r.PackageDigest).HasMaxLength(80);
            run.Property(r => r.RegistrationStatus).HasMaxLength(16);
            run.Property(r => r.RegistrationDetail).HasMaxLength(2000);
            run.HasIndex(r => r.SnapshotId);
        });

        modelBuilder.UseSnakeCaseColumns();
    }
}
