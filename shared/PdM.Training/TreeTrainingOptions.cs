using System.Globalization;

namespace PdM.Training;

public enum TrainingTask
{
    /// <summary>Remaining useful life in cycles (regression).</summary>
    RulRegression,

    /// <summary>Probability of the failure class (binary classification).</summary>
    FailureClassification,
}

public enum TreeAlgorithm
{
    /// <summary>ML.NET FastTree (MART gradient boosting).</summary>
    FastTree,

    /// <summary>LightGBM through ML.NET.</summary>
    LightGbm,
}

/// <summary>What to train and with which hyperparameters. <see cref="Validate"/> before use.</summary>
public sealed record TreeTrainingOptions
{
    public TrainingTask Task { get; init; } = TrainingTask.RulRegression;

    public TreeAlgorithm Algorithm { get; init; } = TreeAlgorithm.FastTree;

    public int NumberOfTrees { get; init; } = 200;

    public int NumberOfLeaves { get; init; } = 20;

    public int MinimumExampleCountPerLeaf { get; init; } = 10;

    public double LearningRate { get; init; } = 0.1;

    /// <summary>Seeds ML.NET, the fold assignment and the evaluation cuts: the same seed gives the same run.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Trainer threads; 1 makes FastTree's result independent of scheduling.</summary>
    public int Threads { get; init; } = 1;

    public void Validate()
    {
        var problems = new List<string>();
        if (NumberOfTrees is < 1 or > 5000)
        {
            problems.Add("numberOfTrees must be in [1, 5000]");
        }

        if (NumberOfLeaves is < 2 or > 1024)
        {
            problems.Add("numberOfLeaves must be in [2, 1024]");
        }

        if (MinimumExampleCountPerLeaf < 1)
        {
            problems.Add("minimumExampleCountPerLeaf must be ≥ 1");
        }

        if (!(LearningRate > 0 && LearningRate <= 1))
        {
            problems.Add("learningRate must be in (0, 1]");
        }

        if (Threads < 1)
        {
            problems.Add("threads must be ≥ 1");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid training options: " + string.Join("; ", problems));
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Algorithm} {Task}: trees={NumberOfTrees} leaves={NumberOfLeaves} minLeaf={MinimumExampleCountPerLeaf} lr={LearningRate} seed={Seed}");
}
