namespace PdM.Telemetry.Persistence;

/// <summary>A loaded batch of feature windows: who sent it, with which spec, and the feature names its rows share.</summary>
public sealed class FeatureBatch
{
    public Guid BatchId { get; set; }

    /// <summary><c>gateway:{id}</c> or <c>dataset:{name}</c>.</summary>
    public required string Source { get; set; }

    public required string SiteId { get; set; }

    public required string SpecDigest { get; set; }

    public required string SpecName { get; set; }

    public required string[] FeatureNames { get; set; }

    public int RowCount { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>
/// One feature window (table <c>feature_windows</c>, range-partitioned by day of <see cref="WindowStart"/>; created by
/// raw SQL in the migration because EF Core cannot declare partitions). Loaded with binary COPY; the EF mapping is
/// for reading and for the benchmark's SaveChanges comparison.
/// </summary>
public sealed class FeatureWindowRecord
{
    public Guid BatchId { get; set; }

    public int RowIndex { get; set; }

    public required string Source { get; set; }

    public required string SiteId { get; set; }

    public required string AssetId { get; set; }

    public required string SpecDigest { get; set; }

    public DateTimeOffset WindowStart { get; set; }

    public DateTimeOffset WindowEnd { get; set; }

    public required float[] FeatureValues { get; set; }
}

/// <summary>A feature spec by digest, so a snapshot can be trained with exactly the spec its rows were computed with.</summary>
public sealed class FeatureSpecRecord
{
    public required string Digest { get; set; }

    public required string Name { get; set; }

    public required string SpecJson { get; set; }

    public DateTimeOffset RegisteredAt { get; set; }
}

public static class LabelKinds
{
    /// <summary>Remaining useful life in cycles at the window end (dataset imports).</summary>
    public const string Rul = "rul";

    /// <summary>1 = failure, 0 = none (dataset imports; maintenance outcomes: confirmed = 1, no fault found = 0).</summary>
    public const string Failure = "failure";
}

/// <summary>A label: what was true for an asset at a time, from a dataset import or a planner's recorded outcome.</summary>
public sealed class LabelRecord
{
    public Guid Id { get; set; }

    public required string Source { get; set; }

    public required string SiteId { get; set; }

    public required string AssetId { get; set; }

    public required string Kind { get; set; }

    /// <summary>The window end the label belongs to (imports) or the time the outcome was recorded.</summary>
    public DateTimeOffset At { get; set; }

    /// <summary>Cycle or process number (imports; grouped CV cuts on it); 0 for outcomes.</summary>
    public int TimeIndex { get; set; }

    /// <summary>What the model fits (the capped RUL, or 0/1).</summary>
    public float Label { get; set; }

    /// <summary>What the evaluation compares with (the uncapped RUL, or 0/1).</summary>
    public double Target { get; set; }

    public string? FailureMode { get; set; }

    /// <summary>The <c>MaintenanceOutcomeRecorded.OutcomeId</c>; unique, so an outcome labels once.</summary>
    public Guid? OutcomeId { get; set; }

    public DateTimeOffset RecordedAt { get; set; }
}

/// <summary>A data set imported into the store (one per source and spec: importing again is a no-op).</summary>
public sealed class DatasetImport
{
    public required string Source { get; set; }

    public required string SpecDigest { get; set; }

    public required string FileSha256 { get; set; }

    public Guid BatchId { get; set; }

    public int Rows { get; set; }

    public int Labels { get; set; }

    public DateTimeOffset ImportedAt { get; set; }
}

/// <summary>
/// A recorded query over the store (rows of one spec and source in a window-start range, joined with their labels)
/// with the row count and the sha256 of the ordered rows at recording time: the lineage anchor of a training run.
/// </summary>
public sealed class DatasetSnapshot
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public required string Source { get; set; }

    public required string SpecDigest { get; set; }

    public required string LabelKind { get; set; }

    public DateTimeOffset From { get; set; }

    public DateTimeOffset To { get; set; }

    /// <summary>The SQL the rows were read with (parameters listed beside it), for people reading the lineage.</summary>
    public required string Query { get; set; }

    public int RowCount { get; set; }

    /// <summary><c>sha256:</c> + hex over the ordered rows (see <c>SnapshotDigest</c>).</summary>
    public required string Digest { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

public enum TrainingRunStatus
{
    Queued = 0,
    Running = 1,
    Succeeded = 2,
    Failed = 3,
}

/// <summary>One training run: the command, its progress, the resulting package and the model card.</summary>
public sealed class TrainingRunRecord
{
    public Guid Id { get; set; }

    public Guid SnapshotId { get; set; }

    public TrainingRunStatus Status { get; set; }

    public required string Stage { get; set; }

    public int PercentComplete { get; set; }

    public required string RequestJson { get; set; }

    public string? DatasetDigest { get; set; }

    public string? ModelName { get; set; }

    public string? ModelVersion { get; set; }

    public string? PackagePath { get; set; }

    public string? PackageDigest { get; set; }

    public string? CardMarkdown { get; set; }

    public string? MetricsJson { get; set; }

    public string? Error { get; set; }

    public DateTimeOffset QueuedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Pending once the package was sent to the registry; Registered or Rejected when the registry answered.</summary>
    public string? RegistrationStatus { get; set; }

    /// <summary>The registered <c>name@version</c>, or the registry's reason and detail for a rejection.</summary>
    public string? RegistrationDetail { get; set; }
}

public static class RegistrationStatuses
{
    public const string Pending = "Pending";
    public const string Registered = "Registered";
    public const string Rejected = "Rejected";
}
