using Microsoft.EntityFrameworkCore;
using PdM.Persistence;

namespace PdM.Lineage.Persistence;

public sealed class LineageDbContext(DbContextOptions<LineageDbContext> options) : DbContext(options)
{
    public const string Schema = "lineage";

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    public DbSet<AuditCheckpoint> AuditCheckpoints => Set<AuditCheckpoint>();

    public DbSet<LineageNode> Nodes => Set<LineageNode>();

    public DbSet<LineageEdge> Edges => Set<LineageEdge>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.HasDefaultSchema(Schema);

        modelBuilder.Entity<AuditEntry>(entry =>
        {
            entry.ToTable("audit_entries");
            entry.HasKey(e => e.Sequence);
            entry.Property(e => e.Sequence).ValueGeneratedNever();
            entry.Property(e => e.Actor).HasMaxLength(200);
            entry.Property(e => e.Action).HasMaxLength(100);
            entry.Property(e => e.Subject).HasMaxLength(300);
            entry.Property(e => e.BeforeDigest).HasMaxLength(64);
            entry.Property(e => e.AfterDigest).HasMaxLength(64);
            entry.Property(e => e.PreviousHash).HasMaxLength(64);
            entry.Property(e => e.Hash).HasMaxLength(64);
            entry.HasIndex(e => e.SourceMessageId).IsUnique();
            entry.HasIndex(e => e.Subject);
            entry.HasIndex(e => e.RecordedAt);
        });

        modelBuilder.Entity<AuditCheckpoint>(checkpoint =>
        {
            checkpoint.ToTable("audit_checkpoints");
            checkpoint.HasKey(c => c.Id);
            checkpoint.Property(c => c.Id).UseIdentityAlwaysColumn();
            checkpoint.Property(c => c.AnchorHash).HasMaxLength(64);
            checkpoint.HasIndex(c => c.AnchorSequence).IsUnique();
        });

        modelBuilder.Entity<LineageNode>(node =>
        {
            node.ToTable("nodes");
            node.HasKey(n => n.Id);
            node.Property(n => n.Id).HasMaxLength(300);
            node.Property(n => n.Kind).HasMaxLength(32);
            node.Property(n => n.Label).HasMaxLength(300);
            node.Property(n => n.PropertiesJson).HasColumnType("jsonb");
        });

        modelBuilder.Entity<LineageEdge>(edge =>
        {
            edge.ToTable("edges");
            edge.HasKey(e => new { e.FromId, e.ToId, e.Kind });
            edge.Property(e => e.FromId).HasMaxLength(300);
            edge.Property(e => e.ToId).HasMaxLength(300);
            edge.Property(e => e.Kind).HasMaxLength(32);
            edge.HasIndex(e => e.ToId);
        });

        modelBuilder.UseSnakeCaseColumns();
    }
}
