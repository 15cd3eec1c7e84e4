namespace PdM.Features.Tests;

/// <summary>Each function against the naive textbook formula written independently here with LINQ.</summary>
public sealed class FeatureMathTests
{
    public static TheoryData<int, double, double> Signals => new()
    {
        { 1, 0, 1 },           // single reading
        { 2, 0, 1 },
        { 7, 100, 3 },
        { 30, 1589.7, 5 },     // a C-MAPSS-like level with a small spread
        { 257, -3, 0.001 },
        { 1000, 1e3, 1 },
    };

    [Theory]
    [MemberData(nameof(Signals))]
    public void Every_function_matches_the_textbook_formula(int n, double level, double spread)
    {
        var random = new Random(n);
        var xs = Enumerable.Range(0, n).Select(_ => level + (spread * ((random.NextDouble() * 2) - 1))).ToArray();
        var ts = Enumerable.Range(0, n).Select(i => 1_700_000_000_000L + (i * 1000L) + random.Next(0, 900)).ToArray();

        var mean = xs.Average();
        var m2 = xs.Select(x => Math.Pow(x - mean, 2)).Average();
        var m3 = xs.Select(x => Math.Pow(x - mean, 3)).Average();
        var m4 = xs.Select(x => Math.Pow(x - mean, 4)).Average();
        var rms = Math.Sqrt(xs.Select(x => x * x).Average());
        var secs = ts.Select(t => (t - ts[0]) / 1000.0).ToArray();
        var meanT = secs.Average();
        var sxx = secs.Sum(t => (t - meanT) * (t - meanT));
        var slope = n == 1 ? 0 : secs.Zip(xs, (t, x) => (t - meanT) * (x - mean)).Sum() / sxx;
        var ewma = xs.Skip(1).Aggregate(xs[0], (s, x) => (0.3 * x) + (0.7 * s));

        TestData.AssertClose(mean, FeatureMath.Mean(xs), "mean");
        TestData.AssertClose(Math.Sqrt(m2), FeatureMath.Std(xs), "std");
        TestData.AssertClose(xs.Min(), FeatureMath.Min(xs), "min");
        TestData.AssertClose(xs.Max(), FeatureMath.Max(xs), "max");
        TestData.AssertClose(rms, FeatureMath.Rms(xs), "rms");
        TestData.AssertClose(xs.Max() - xs.Min(), FeatureMath.PeakToPeak(xs), "peakToPeak");
        TestData.AssertClose(xs.Max(Math.Abs) / rms, FeatureMath.CrestFactor(xs), "crestFactor");
        TestData.AssertClose(n == 1 ? 0 : m3 / Math.Pow(m2, 1.5), FeatureMath.Skewness(xs), "skewness");
        TestData.AssertClose(n == 1 ? 0 : (m4 / (m2 * m2)) - 3, FeatureMath.Kurtosis(xs), "kurtosis");
        TestData.AssertClose(slope, FeatureMath.Slope(xs, ts), "slope");
        TestData.AssertClose(ewma, FeatureMath.Ewma(xs, 0.3), "ewma");
        TestData.AssertClose(xs[^1], FeatureMath.Last(xs), "last");
        TestData.AssertClose(xs[^1] - 2.5, FeatureMath.Compute(FeatureFunction.DeltaFromBaseline, xs, ts, baseline: 2.5), "delta");
    }

    [Fact]
    public void Std_stays_exact_on_a_large_offset_where_naive_running_sums_lose_everything()
    {
        // Deviations are multiples of 2^-20, so 1e6 + d is exact in double and the reference can use d alone
        // (standard deviation is shift-invariant). Σx²/n − x̄² would be off by orders of magnitude here.
        var random = new Random(42);
        var d = Enumerable.Range(0, 1000).Select(_ => random.Next(-10_000, 10_000) / 1048576.0).ToArray();
        var xs = d.Select(v => 1e6 + v).ToArray();
        var meanD = d.Average();
        var std = Math.Sqrt(d.Select(v => (v - meanD) * (v - meanD)).Average());

        TestData.AssertClose(std, FeatureMath.Std(xs), "std");
        TestData.AssertClose(1e6 + meanD, FeatureMath.Mean(xs), "mean");
    }

    [Fact]
    public void A_straight_line_has_exactly_its_slope_in_units_per_second()
    {
        long[] ts = [10_000, 12_000, 13_000, 17_000];
        var xs = ts.Select(t => 5 - (0.25 * (t / 1000.0))).ToArray();

        TestData.AssertClose(-0.25, FeatureMath.Slope(xs, ts), "slope");
    }

    [Fact]
    public void A_constant_signal_has_zero_spread_and_shape_and_crest_factor_one()
    {
        var xs = Enumerable.Repeat(0.1, 30).ToArray();
        var ts = Enumerable.Range(0, 30).Select(i => (long)i * 1000).ToArray();

        Assert.Equal(0.1, FeatureMath.Mean(xs));
        Assert.Equal(0, FeatureMath.Std(xs));
        Assert.Equal(0, FeatureMath.Skewness(xs));
        Assert.Equal(0, FeatureMath.Kurtosis(xs));
        Assert.Equal(0, FeatureMath.PeakToPeak(xs));
        Assert.Equal(0, FeatureMath.Slope(xs, ts));
        TestData.AssertClose(1, FeatureMath.CrestFactor(xs), "crest of a constant");
        Assert.Equal(1, FeatureMath.CrestFactor(new double[5]));
    }

    [Fact]
    public void Readings_that_share_one_timestamp_have_slope_zero()
    {
        Assert.Equal(0, FeatureMath.Slope([1.0, 5.0, 2.0], [7_000L, 7_000L, 7_000L]));
    }

    [Fact]
    public void An_empty_window_is_NaN_for_every_function()
    {
        foreach (var function in Enum.GetValues<FeatureFunction>())
        {
            Assert.True(double.IsNaN(FeatureMath.Compute(function, [], [], 0.5, 1)), function.ToString());
        }
    }

    [Fact]
    public void Kurtosis_is_excess_kurtosis()
    {
        // Two-point symmetric distribution: m4 / m2² = 1, so excess kurtosis is −2.
        TestData.AssertClose(-2, FeatureMath.Kurtosis([-1.0, 1.0, -1.0, 1.0]), "kurtosis");
    }
}
