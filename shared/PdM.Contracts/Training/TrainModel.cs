namespace PdM.Contracts.Training;

/// <summary>
/// Train a model on a recorded dataset snapshot. The run is queued and runs in the background; progress and the
/// result are published as <see cref="TrainingRunProgressed"/> and <see cref="TrainingRunCompleted"/>.
/// A repeated command with the same <see cref="RunId"/> starts nothing new.
/// </summary>
public sealed record TrainModel
{
    public required Guid RunId { get; init; }

    public required Guid SnapshotId { get; init; }

    public required TrainingTaskKind Task { get; init; }

    public required TrainingAlgorithm Algorithm { get; init; }

    /// <summary>Model name written into the package manifest (lower-case, dashes).</summary>
    public required string ModelName { get; init; }

    public string ModelVersion { get; init; } = "1.0.0";

    /// <summary>The gateway asset class the package is for (its model slot).</summary>
    public required string AssetClass { get; init; }

    /// <summary>ISO 14224 failure mode the model predicts (the work orders' failure mode); default PDE for RUL, BRD for failure classification.</summary>
    public string? FailureMode { get; init; }

    public TrainingHyperparameters Hyperparameters { get; init; } = new();

    public int Seed { get; init; } = 42;

    /// <summary>Cross-validation folds grouped by asset for the model card; 0 skips the evaluation.</summary>
    public int Folds { get; init; }

    public string? RequestedBy { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }
}

public enum TrainingTaskKind
{
    RulRegression = 0,
    FailureClassification = 1,
}

public enum TrainingAlgorithm
{
    FastTree = 0,
    LightGbm = 1,
}

/// <summary>Tree-ensemble hyperparameters; the defaults are a reasonable small model.</summary>
public sealed record TrainingHyperparameters
{
    public int NumberOfTrees { get; init; } = 200;

    public int NumberOfLeaves { get; init; } = 16;

    public int MinimumExampleCountPerLeaf { get; init; } = 20;

    public double LearningRate { get; init; } = 0.1;
}
