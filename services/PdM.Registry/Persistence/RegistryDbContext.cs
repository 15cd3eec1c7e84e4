using Microsoft.EntityFrameworkCore;
using PdM.Persistence;

namespace PdM.Registry.Persistence;

public sealed class RegistryDbContext(DbContextOptions<RegistryDbContext> options) : DbContext(options)
{
    public const string Schema = "registry";

    public DbSet<RegisteredModel> Models => Set<RegisteredModel>();

    public DbSet<ModelVersionRecord> Versions => Set<ModelVersionRecord>();

    public DbSet<SiteDeployment> Deployments => Set<SiteDeployment>();

    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();

    public DbSet<InboxMessage> Inbox => Set<InboxMessage>();

    public DbSet<ShadowEvaluation> ShadowEvaluations => Set<ShadowEvaluation>();

    public DbSet<ModelDrift> Drift => Set<ModelDrift>();

    public DbSet<TrainedModelRejection> TrainedModelRejections => Set<TrainedModelRejection>();

    public DbSet<DecisionOutcome> Outcomes => Set<DecisionOutcome>();

    public DbSet<GatewayStatus> Gateways => Set<GatewayStatus>();

    public DbSet<ModelCardRecord> Cards => Set<ModelCardRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.HasDefaultSchema(Schema);

        modelBuilder.Entity<RegisteredModel>(model =>
        {
            model.ToTable("models");
            model.HasKey(m => m.Name);
            model.Property(m => m.Name).HasMaxLength(128);
            model.Property(m => m.AssetClass).HasMaxLength(128);
            model.Property(m => m.CreatedBy).HasMaxLength(128);
        });

        modelBuilder.Entity<ModelVersionRecord>(version =>
        {
            version.ToTable("model_versions");
            version.HasKey(v => v.Id);
            version.Property(v => v.ModelName).HasMaxLength(128);
            version.Property(v => v.Version).HasMaxLength(64);
            version.Property(v => v.AssetClass).HasMaxLength(128);
            version.Property(v => v.PackageDigest).HasMaxLength(64);
            version.Property(v => v.ArtifactSha256).HasMaxLength(64);
            version.Property(v => v.UploadedBy).HasMaxLength(128);
            version.Property(v => v.ApprovedBy).HasMaxLength(128);
            version.Property(v => v.Signature).HasMaxLength(200);
            version.Property(v => v.SigningKeyId).HasMaxLength(32);
            version.HasIndex(v => new { v.ModelName, v.Version }).IsUnique();
            version.HasIndex(v => v.ArtifactSha256);
            version.Property(v => v.DatasetDigest).HasMaxLength(80);
            version.HasIndex(v => v.TrainingRunId).IsUnique().HasFilter("training_run_id IS NOT NULL");
            version.HasOne<RegisteredModel>().WithMany().HasForeignKey(v => v.ModelName);
        });

        modelBuilder.Entity<SiteDeployment>(deployment =>
        {
            deployment.ToTable("site_deployments");
            deployment.HasKey(d => new { d.VersionId, d.SiteId });
            deployment.Property(d => d.SiteId).HasMaxLength(64);
            deployment.Property(d => d.Stage).HasConversion<string>().HasMaxLength(16);
            deployment.Property(d => d.Status).HasConversion<string>().HasMaxLength(16);
            deployment.Property(d => d.GatewayId).HasMaxLength(128);
            deployment.Property(d => d.Detail).HasMaxLength(2000);
            deployment.Property(d => d.PromotedBy).HasMaxLength(128);
            deployment.HasIndex(d => d.DeploymentId);
            deployment.HasIndex(d => new { d.SiteId, d.Stage });
            deployment.HasOne<ModelVersionRecord>().WithMany().HasForeignKey(d => d.VersionId);
        });

        modelBuilder.AddPdMOutboxAndInbox();

        modelBuilder.Entity<ShadowEvaluation>(shadow =>
        {
            shadow.ToTable("shadow_evaluations");
            shadow.HasKey(e => e.EventId);
            shadow.Property(e => e.CandidateDigest).HasMaxLength(64);
            shadow.Property(e => e.GatewayId).HasMaxLength(128);
            shadow.Property(e => e.SiteId).HasMaxLength(64);
            shadow.Property(e => e.AssetClass).HasMaxLength(128);
            shadow.HasIndex(e => e.CandidateDigest);
        });

        modelBuilder.Entity<GatewayStatus>(gateway =>
        {
            gateway.ToTable("gateways");
            gateway.HasKey(g => g.GatewayId);
            gateway.Property(g => g.GatewayId).HasMaxLength(128);
            gateway.Property(g => g.SiteId).HasMaxLength(64);
            gateway.Property(g => g.GatewayVersion).HasMaxLength(200);
            gateway.Property(g => g.EgressPolicyVersion).HasMaxLength(64);
            gateway.Property(g => g.Heartbeat).HasColumnType("jsonb");
            gateway.HasIndex(g => g.SiteId);
        });

        modelBuilder.Entity<ModelCardRecord>(card =>
        {
            card.ToTable("model_cards");
            card.HasKey(c => c.VersionId);
        });

        modelBuilder.Entity<ModelDrift>(drift =>
        {
            drift.ToTable("model_drift");
            drift.HasKey(e => e.EventId);
            drift.Property(e => e.ModelDigest).HasMaxLength(64);
            drift.Property(e => e.GatewayId).HasMaxLength(128);
            drift.Property(e => e.SiteId).HasMaxLength(64);
            drift.Property(e => e.AssetClass).HasMaxLength(128);
            drift.Property(e => e.Feature).HasMaxLength(128);
            drift.Property(e => e.FeaturePsi).HasColumnType("jsonb");
            drift.HasIndex(e => new { e.ModelDigest, e.OccurredAt });
        });

        modelBuilder.Entity<TrainedModelRejection>(rejection =>
        {
            rejection.ToTable("trained_model_rejections");
            rejection.HasKey(r => r.TrainingRunId);
            rejection.Property(r => r.ModelName).HasMaxLength(128);
            rejection.Property(r => r.ModelVersion).HasMaxLength(64);
            rejection.Property(r => r.RequestedBy).HasMaxLength(128);
            rejection.Property(r => r.PackageDigest).HasMaxLength(80);
            rejection.Property(r => r.Reason).HasMaxLength(64);
            rejection.Property(r => r.Detail).HasMaxLength(4000);
        });

        modelBuilder.Entity<DecisionOutcome>(outcome =>
        {
            outcome.ToTable("decision_outcomes");
            outcome.HasKey(o => o.OutcomeId);
            outcome.Property(o => o.Path).HasMaxLength(16);
            outcome.Property(o => o.Name).HasMaxLength(128);
            outcome.Property(o => o.Version).HasMaxLength(64);
            outcome.Property(o => o.Digest).HasMaxLength(80);
            outcome.Property(o => o.SiteId).HasMaxLength(64);
            outcome.Property(o => o.AssetId).HasMaxLength(128);
            outcome.Property(o => o.FailureMode).HasMaxLength(32);
            outcome.Property(o => o.FailureCode).HasMaxLength(64);
            outcome.Property(o => o.Source).HasMaxLength(16);
            outcome.HasIndex(o => new { o.Path, o.Name, o.Version });
        });

        modelBuilder.UseSnakeCaseColumns();
    }
}
