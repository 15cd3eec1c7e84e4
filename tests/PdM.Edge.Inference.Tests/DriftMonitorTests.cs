using PdM.ModelPackage;

namespace PdM.Edge.Inference.Tests;

/// <summary>
/// The drift monitor's window against a recount from scratch: its PSI per feature is exactly what
/// <see cref="FeatureDistribution.BinOf"/> and <see cref="TrainingDistribution.Psi"/> give over the same last rows, for
/// rows with values on the edges, beyond the outer edges and not finite, and features with fewer bins than others.
/// </summary>
public sealed class DriftMonitorTests
{
    // The minimum a multiple of sixteen: from it on, PSI is recomputed at every sixteenth row.
    private static readonly InferenceOptions s_options = new() { DriftWindowSize = 200, DriftMinRows = 64 };

    // Three features of 10, 4 and 1 bins (a constant feature keeps none of its interior edges).
    private static readonly TrainingDistribution s_distribution = new()
    {
        Features =
        [
            Feature("temperature", [-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2]),
            Feature("vibration", [0.25, 0.5, 4]),
            Feature("constant", []),
        ],
    };

    [Fact]
    public void Its_PSI_equals_a_recount_of_the_last_window_rows_after_the_window_has_wrapped_many_times()
    {
        var monitor = new DriftMonitor(s_distribution, s_options);
        var random = new Random(77);
        var rows = new List<float[]>();
        for (var i = 0; i < 1_000; i++)
        {
            var row = new[] { Value(random, s_distribution.Features[0]), Value(random, s_distribution.Features[1]), Value(random, s_distribution.Features[2]) };
            rows.Add(row);
            monitor.Record(row);
            monitor.Evaluate();
            if (rows.Count >= s_options.DriftMinRows && rows.Count % DriftMonitor.EvaluateEveryRows == 0)
            {
                var window = rows.Skip(Math.Max(0, rows.Count - s_options.DriftWindowSize)).ToList();
                for (var f = 0; f < s_distribution.Features.Count; f++)
                {
                    Assert.Equal(Recount(window, f), monitor.Psi(f));
                }
            }
        }

        Assert.Equal(s_options.DriftWindowSize, monitor.Count);
    }

    [Fact]
    public void Its_PSI_is_recomputed_once_every_sixteen_rows_and_a_crossing_is_raised_once()
    {
        var monitor = new DriftMonitor(s_distribution, s_options);
        for (var i = 0; i < s_options.DriftMinRows; i++)
        {
            monitor.Record([0.1f, 1f, 3f]);
        }

        // Every row in one bin of ten: far from the training deciles.
        Assert.Equal(0, monitor.Evaluate());
        var raised = monitor.Psi(0);
        Assert.True(raised > s_options.DriftPsiThreshold, $"PSI {raised}");

        // Fewer than sixteen new rows: the gauge keeps its value and nothing is raised again.
        for (var i = 0; i < DriftMonitor.EvaluateEveryRows - 1; i++)
        {
            monitor.Record([-1.9f, 0.1f, 3f]);
            Assert.Equal(-1, monitor.Evaluate());
            Assert.Equal(raised, monitor.Psi(0));
        }

        monitor.Record([-1.9f, 0.1f, 3f]);
        Assert.Equal(-1, monitor.Evaluate());
        Assert.NotEqual(raised, monitor.Psi(0));
    }

    private static FeatureDistribution Feature(string name, double[] edges) => new()
    {
        Name = name,
        Edges = edges,
        Proportions = [.. Enumerable.Repeat(1.0 / (edges.Length + 1), edges.Length + 1)],
    };

    /// <summary>Mostly within the edges, some exactly on one, some beyond both ends, some NaN or infinite.</summary>
    private static float Value(Random random, FeatureDistribution feature)
    {
        var pick = random.Next(20);
        return pick switch
        {
            0 => float.NaN,
            1 => float.PositiveInfinity,
            2 => float.NegativeInfinity,
            3 when feature.Edges.Count > 0 => (float)feature.Edges[random.Next(feature.Edges.Count)],
            4 => 1e6f,
            5 => -1e6f,
            _ => (float)((random.NextDouble() * 6) - 3),
        };
    }

    private static double Recount(List<float[]> window, int feature)
    {
        var distribution = s_distribution.Features[feature];
        var counts = new int[distribution.Proportions.Count];
        foreach (var row in window)
        {
            var bin = FeatureDistribution.BinOf([.. distribution.Edges], row[feature]);
            if (bin >= 0)
            {
                counts[bin]++;
            }
        }

        return TrainingDistribution.Psi([.. distribution.Proportions], counts);
    }
}
