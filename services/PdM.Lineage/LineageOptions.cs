using System.ComponentModel.DataAnnotations;

namespace PdM.Lineage;

/// <summary>Section <c>Lineage</c>.</summary>
public sealed class LineageOptions
{
    public const string Section = "Lineage";

    public AuditRetentionOptions Audit { get; set; } = new();
}

/// <summary>Section <c>Lineage:Audit</c>.</summary>
public sealed class AuditRetentionOptions
{
    /// <summary>Entries recorded longer ago than this are pruned behind a checkpoint. Zero keeps everything (the default).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.Zero;

    /// <summary>How often retention runs.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(6);
}
