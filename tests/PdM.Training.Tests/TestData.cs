using PdM.Testing;

namespace PdM.Training.Tests;

/// <summary>The committed data sets, loaded once per test run.</summary>
internal static class TestData
{
    private static readonly Lazy<CmapssDataset> s_train = new(() => CmapssDataset.Load(TrainFd001));
    private static readonly Lazy<Ai4iDataset> s_ai4i = new(() => Ai4iDataset.Load(Ai4iFile));

    public static string TrainFd001 => Path.Combine(LocalDependencies.RepositoryRoot, "datasets", "cmapss", "train_FD001.txt");

    public static string TestFd001 => Path.Combine(LocalDependencies.RepositoryRoot, "datasets", "cmapss", "test_FD001.txt");

    public static string Ai4iFile => Path.Combine(LocalDependencies.RepositoryRoot, "datasets", "ai4i2020", "ai4i2020.csv");

    public static CmapssDataset Fd001 => s_train.Value;

    public static Ai4iDataset Ai4i => s_ai4i.Value;

    /// <summary>Small, fast settings: the tests check behaviour, not accuracy.</summary>
    public static TreeTrainingOptions SmallRegression(TreeAlgorithm algorithm = TreeAlgorithm.FastTree) => new()
    {
        Task = TrainingTask.RulRegression,
        Algorithm = algorithm,
        NumberOfTrees = 40,
        NumberOfLeaves = 16,
        MinimumExampleCountPerLeaf = 20,
        LearningRate = 0.1,
        Seed = 7,
    };

    public static TreeTrainingOptions SmallClassifier(TreeAlgorithm algorithm = TreeAlgorithm.FastTree) => new()
    {
        Task = TrainingTask.FailureClassification,
        Algorithm = algorithm,
        NumberOfTrees = 40,
        NumberOfLeaves = 16,
        MinimumExampleCountPerLeaf = 5,
        LearningRate = 0.1,
        Seed = 7,
    };

    /// <summary>FD001 training vectors of the first <paramref name="engines"/> engines (default spec).</summary>
    public static TrainingSet Fd001Subset(int engines)
    {
        var full = CmapssTraining.BuildTrainingSet(Fd001, CmapssTraining.DefaultSpec(30, includeCycle: true, longWindow: 100));
        var rows = new List<int>();
        for (var i = 0; i < full.Examples.Count; i++)
        {
            if (CmapssDataset.UnitOf(full.Examples[i].Group) <= engines)
            {
                rows.Add(i);
            }
        }

        return full.Subset(rows);
    }
}
