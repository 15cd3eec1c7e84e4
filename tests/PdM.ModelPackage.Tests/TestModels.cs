using PdM.Testing;

namespace PdM.ModelPackage.Tests;

/// <summary>The committed packages under tests/models/generated (built by tests/models/build_models.py).</summary>
internal static class TestModels
{
    public static string Generated { get; } = Path.Combine(LocalDependencies.RepositoryRoot, "tests", "models", "generated");

    public static string PackagePath(string name) => Path.Combine(Generated, name);

    /// <summary>Copies a generated package into a fresh temporary directory the test may change.</summary>
    public static string CopyToTemp(string name)
    {
        var target = Path.Combine(Path.GetTempPath(), "pdm-mp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(PackagePath(name)))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return target;
    }
}
