using PdM.Contracts.Training;
using PdM.Telemetry.Persistence;
using PdM.Telemetry.Store;

namespace PdM.Telemetry.Api;

/// <summary>Body of <c>POST /api/training/runs</c>: a <c>TrainModel</c> whose run id is optional (assigned when absent).</summary>
public sealed record TrainRunRequest
{
    public Guid? RunId { get; init; }

    public Guid SnapshotId { get; init; }

    /// <summary><c>RulRegression</c> or <c>FailureClassification</c>.</summary>
    public string? Task { get; init; }

    /// <summary><c>FastTree</c> or <c>LightGbm</c>.</summary>
    public string? Algorithm { get; init; }

    public string? ModelName { get; init; }

    public string? ModelVersion { get; init; }

    public string? AssetClass { get; init; }

    public TrainingHyperparameters? Hyperparameters { get; init; }

    /// <summary>ISO 14224 failure mode the model predicts; default PDE (RUL) or BRD (failure classification).</summary>
    public string? FailureMode { get; init; }

    public int? Seed { get; init; }

    public int? Folds { get; init; }

    public string? RequestedBy { get; init; }
}

public sealed record TrainingRunResponse(
    Guid RunId,
    Guid SnapshotId,
    string Status,
    string Stage,
    int PercentComplete,
    string? DatasetDigest,
    string? ModelName,
    string? ModelVersion,
    string? PackageDigest,
    string? PackagePath,
    string? MetricsJson,
    string? Error,
    DateTimeOffset QueuedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? RegistrationStatus,
    string? RegistrationDetail)
{
    public static TrainingRunResponse From(TrainingRunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new(run.Id, run.SnapshotId, run.Status.ToString(), run.Stage, run.PercentComplete, run.DatasetDigest, run.ModelName, run.ModelVersion,
            run.PackageDigest, run.PackagePath, run.MetricsJson, run.Error, run.QueuedAt, run.StartedAt, run.FinishedAt, run.RegistrationStatus, run.RegistrationDetail);
    }
}

/// <summary>Body of <c>POST /api/feature-store/snapshots</c>.</summary>
public sealed record CreateSnapshotRequest
{
    public string? Name { get; init; }

    public string? Source { get; init; }

    public string? SpecDigest { get; init; }

    public string? LabelKind { get; init; }

    public DateTimeOffset? From { get; init; }

    public DateTimeOffset? To { get; init; }
}

public sealed record SnapshotResponse(Guid Id, string Name, string Source, string SpecDigest, string LabelKind, DateTimeOffset From, DateTimeOffset To,
    int RowCount, string Digest, string Query, DateTimeOffset CreatedAt)
{
    public static SnapshotResponse Of(DatasetSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new(s.Id, s.Name, s.Source, s.SpecDigest, s.LabelKind, s.From, s.To, s.RowCount, s.Digest, s.Query, s.CreatedAt);
    }
}

/// <summary>Answer of <c>POST /api/feature-store/imports/{dataset}</c>: where the rows went (the snapshot's <c>source</c>).</summary>
public sealed record DatasetImportResponse(string Source, string SpecDigest, Guid BatchId, int Rows, int Labels, bool AlreadyImported)
{
    public static DatasetImportResponse Of(DatasetImportResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new(result.Source, result.SpecDigest, result.BatchId, result.Rows, result.Labels, result.AlreadyImported);
    }
}
