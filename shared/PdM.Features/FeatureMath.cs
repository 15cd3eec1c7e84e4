namespace PdM.Features;

/// <summary>
/// The feature functions over one sensor's readings in one window, in event-time order. Pure, allocation-free and
/// deterministic: moments use a compensated sum for the mean and a second pass (with the classic correction term)
/// for the central moments over the values given. The engine keeps most of these incrementally
/// (<see cref="SlidingSeries"/>); these are the definitions it is tested against, and what it uses for skewness,
/// kurtosis and EWMA.
/// </summary>
/// <remarks>
/// Definitions (n = number of readings, x̄ = mean, m_k = Σ(x − x̄)^k / n):
/// std = √m2 (population); skewness = m3 / m2^1.5; kurtosis = m4 / m2² − 3 (excess); for a constant window
/// (min == max) std, skewness and kurtosis are exactly 0 and the mean is exactly the value.
/// RMS = √(Σx² / n); crest factor = max|x| / RMS, 1 when RMS is 0; slope = least squares of value against
/// (t − t_first) / 1000 seconds, 0 when all readings share one timestamp. An empty window yields NaN.
/// </remarks>
public static class FeatureMath
{
    /// <summary>Computes <paramref name="function"/> over values in time order with their timestamps.</summary>
    /// <param name="function">The function.</param>
    /// <param name="values">Values in event-time order.</param>
    /// <param name="timestampsUnixMs">Event times, same length as <paramref name="values"/> (used by Slope only).</param>
    /// <param name="alpha">Ewma smoothing factor.</param>
    /// <param name="baseline">DeltaFromBaseline baseline.</param>
    public static double Compute(FeatureFunction function, ReadOnlySpan<double> values, ReadOnlySpan<long> timestampsUnixMs,
        double alpha = 1, double baseline = 0) => function switch
        {
            FeatureFunction.Mean => Mean(values),
            FeatureFunction.Std => Std(values),
            FeatureFunction.Min => Min(values),
            FeatureFunction.Max => Max(values),
            FeatureFunction.Rms => Rms(values),
            FeatureFunction.PeakToPeak => PeakToPeak(values),
            FeatureFunction.CrestFactor => CrestFactor(values),
            FeatureFunction.Skewness => Skewness(values),
            FeatureFunction.Kurtosis => Kurtosis(values),
            FeatureFunction.Slope => Slope(values, timestampsUnixMs),
            FeatureFunction.Ewma => Ewma(values, alpha),
            FeatureFunction.Last => Last(values),
            FeatureFunction.DeltaFromBaseline => values.IsEmpty ? double.NaN : Last(values) - baseline,
            _ => double.NaN,
        };

    /// <summary>Arithmetic mean with a Neumaier-compensated sum; exactly the value for a constant window.</summary>
    public static double Mean(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty)
        {
            return double.NaN;
        }

        var min = Min(values);
        if (min == Max(values))
        {
            return min;
        }

        return CompensatedSum(values) / values.Length;
    }

    /// <summary>Population standard deviation √(Σ(x − x̄)² / n).</summary>
    public static double Std(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty)
        {
            return double.NaN;
        }

        var (_, m2, _, _) = CentralMoments(values);
        return Math.Sqrt(m2);
    }

    /// <summary>Minimum value.</summary>
    public static double Min(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty)
        {
            return double.NaN;
        }

        var min = values[0];
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] < min)
            {
                min = values[i];
            }
        }

        return min;
    }

    /// <summary>Maximum value.</summary>
    public static double Max(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty)
        {
            return double.NaN;
        }

        var max = values[0];
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > max)
            {
                max = values[i];
            }
        }

        return max;
    }

    /// <summary>Root mean square √(Σx² / n).</summary>
    public static double Rms(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty)
        {
            return double.NaN;
        }

        double sum = 0, compensation = 0;
        foreach (var v in values)
        {
            Neumaier(ref sum, ref compensation, v * v);
        }

        return Math.Sqrt((sum + compensation) / values.Length);
    }

    /// <summary>max − min.</summary>
    public static double PeakToPeak(ReadOnlySpan<double> values) => values.IsEmpty ? double.NaN : Max(values) - Min(values);

    /// <summary>max|x| / RMS; 1 when RMS is 0 (an all-zero window is constant, and a constant has crest factor 1).</summary>
    public static double CrestFactor(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty)
        {
            return double.NaN;
        }

        var peak = 0.0;
        foreach (var v in values)
        {
            var a = Math.Abs(v);
            if (a > peak)
            {
                peak = a;
            }
        }

        var rms = Rms(values);
        return rms == 0 ? 1 : peak / rms;
    }

    /// <summary>Population skewness m3 / m2^1.5; 0 for a constant window.</summary>
    public static double Skewness(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty)
        {
            return double.NaN;
        }

        var (constant, m2, m3, _) = CentralMoments(values);
        return constant || m2 == 0 ? 0 : m3 / (m2 * Math.Sqrt(m2));
    }

    /// <summary>Population excess kurtosis m4 / m2² − 3; 0 for a constant window.</summary>
    public static double Kurtosis(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty)
        {
            return double.NaN;
        }

        var (constant, m2, _, m4) = CentralMoments(values);
        return constant || m2 == 0 ? 0 : (m4 / (m2 * m2)) - 3;
    }

    /// <summary>
    /// Least-squares slope of value against event time in seconds, x = (t − t₀) / 1000 with t₀ the first timestamp,
    /// computed with centred sums; 0 for a single reading or when every reading shares one timestamp.
    /// </summary>
    public static double Slope(ReadOnlySpan<double> values, ReadOnlySpan<long> timestampsUnixMs)
    {
        if (values.IsEmpty)
        {
            return double.NaN;
        }

        if (timestampsUnixMs.Length != values.Length)
        {
            throw new ArgumentException("one timestamp per value is required", nameof(timestampsUnixMs));
        }

        var n = values.Length;
        var t0 = timestampsUnixMs[0];
        double sx = 0, cx = 0, sy = 0, cy = 0;
        for (var i = 0; i < n; i++)
        {
            Neumaier(ref sx, ref cx, (timestampsUnixMs[i] - t0) / 1000.0);
            Neumaier(ref sy, ref cy, values[i]);
        }

        var mx = (sx + cx) / n;
        var my = (sy + cy) / n;
        double sxx = 0, sxy = 0;
        for (var i = 0; i < n; i++)
        {
            var dx = ((timestampsUnixMs[i] - t0) / 1000.0) - mx;
            sxx += dx * dx;
            sxy += dx * (values[i] - my);
        }

        return sxx == 0 ? 0 : sxy / sxx;
    }

    /// <summary>s₁ = x₁; s_k = α·x_k + (1 − α)·s_{k−1}; returns s_n. The state restarts in every window.</summary>
    public static double Ewma(ReadOnlySpan<double> values, double alpha)
    {
        if (values.IsEmpty)
        {
            return double.NaN;
        }

        var s = values[0];
        for (var i = 1; i < values.Length; i++)
        {
            s = (alpha * values[i]) + ((1 - alpha) * s);
        }

        return s;
    }

    /// <summary>The latest value (last in event-time order).</summary>
    public static double Last(ReadOnlySpan<double> values) => values.IsEmpty ? double.NaN : values[^1];

    private static (bool Constant, double M2, double M3, double M4) CentralMoments(ReadOnlySpan<double> values)
    {
        var min = Min(values);
        if (min == Max(values))
        {
            return (true, 0, 0, 0);
        }

        var n = values.Length;
        var mean = CompensatedSum(values) / n;
        double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
        foreach (var v in values)
        {
            var d = v - mean;
            var d2 = d * d;
            s1 += d;
            s2 += d2;
            s3 += d2 * d;
            s4 += d2 * d2;
        }

        // Corrected two-pass (Chan, Golub & LeVeque): s1 is the rounding error left in the mean; removing it
        // from the second moment makes the variance exact to rounding even when the mean is large.
        var m2 = (s2 - (s1 * s1 / n)) / n;
        if (m2 < 0)
        {
            m2 = 0;
        }

        return (false, m2, s3 / n, s4 / n);
    }

    private static double CompensatedSum(ReadOnlySpan<double> values)
    {
        double sum = 0, compensation = 0;
        foreach (var v in values)
        {
            Neumaier(ref sum, ref compensation, v);
        }

        return sum + compensation;
    }

    private static void Neumaier(ref double sum, ref double compensation, double value)
    {
        var t = sum + value;
        compensation += Math.Abs(sum) >= Math.Abs(value) ? (sum - t) + value : (value - t) + sum;
        sum = t;
    }
}
