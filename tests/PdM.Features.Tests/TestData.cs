using System.Diagnostics.Metrics;
using System.Globalization;

namespace PdM.Features.Tests;

/// <summary>Shared test helpers: repository paths, C-MAPSS rows, tolerant comparison and a private meter factory.</summary>
internal static class TestData
{
    /// <summary>Column of sensor s_k in the C-MAPSS files: unit, cycle, setting1-3, s1..s21.</summary>
    public static int CmapssColumn(int sensorNumber) => 4 + sensorNumber;

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static IReadOnlyList<double[]> ReadCmapss(string file)
    {
        var rows = new List<double[]>();
        foreach (var line in File.ReadLines(Path.Combine(RepositoryRoot, "datasets", "cmapss", file)))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            var row = new double[parts.Length];
            for (var i = 0; i < parts.Length; i++)
            {
                row[i] = double.Parse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture);
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <summary>|actual − expected| ≤ 1e-9·|expected| + 1e-12 (relative, with a floor for values that are exactly 0).</summary>
    public static void AssertClose(double expected, double actual, string what)
    {
        Assert.False(double.IsNaN(actual), what + " is NaN");
        var tolerance = (1e-9 * Math.Abs(expected)) + 1e-12;
        Assert.True(Math.Abs(actual - expected) <= tolerance,
            string.Create(CultureInfo.InvariantCulture, $"{what}: expected {expected:R}, got {actual:R}"));
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PdM.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("PdM.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>Gives each test its own Meter so a MeterListener can tell its measurements from other tests'.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public IReadOnlyList<Meter> Meters => _meters;

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (var meter in _meters)
        {
            meter.Dispose();
        }
    }
}

/// <summary>Collects copies of emitted vectors.</summary>
internal sealed class Collector
{
    public List<FeatureVectorSnapshot> Vectors { get; } = [];

    public void Handle(in FeatureVector vector) => Vectors.Add(vector.ToSnapshot());
}
