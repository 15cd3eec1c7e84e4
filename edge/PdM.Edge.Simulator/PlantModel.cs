namespace PdM.Edge.Simulator;

/// <summary>
/// A small pump fleet: DE-bearing vibration velocity (mm/s RMS) and bearing temperature (°C). Healthy pumps sit in
/// ISO 10816-3 zone A/B with Gaussian noise; a degrading pump's vibration ramps up to ~9 mm/s (zone D) and its bearing
/// heats up with it, which is what a developing bearing defect looks like on an overall-velocity trend.
/// </summary>
public sealed class PlantModel(SimulatorOptions options)
{
    private const double HealthyVibrationMmPerS = 2.0;
    private const double FailingVibrationMmPerS = 9.0;
    private const double HealthyBearingTempC = 60.0;
    private const double FailingBearingTempC = 80.0;

    private readonly Random _random = new(options.Seed);
    private readonly HashSet<string> _degrading = new(options.EffectiveDegradingAssets, StringComparer.Ordinal);

    public IReadOnlyList<string> Assets { get; } =
        Enumerable.Range(101, options.AssetCount).Select(i => $"{options.AssetPrefix}{i}").ToArray();

    /// <summary>The readings of one asset at <paramref name="elapsed"/> since the simulation started.</summary>
    public (double VibrationMmPerS, double BearingTempC) Sample(string asset, TimeSpan elapsed)
    {
        var progress = _degrading.Contains(asset) ? Math.Clamp(elapsed.TotalSeconds / options.DegradationSeconds, 0, 1) : 0;
        var vibration = HealthyVibrationMmPerS + (progress * (FailingVibrationMmPerS - HealthyVibrationMmPerS)) + Noise(0.15);
        var temperature = HealthyBearingTempC + (progress * (FailingBearingTempC - HealthyBearingTempC)) + Noise(0.5);
        return (Math.Max(0, vibration), temperature);
    }

    private double Noise(double sigma)
    {
        // Box-Muller: normal noise from the seeded generator, so a run is reproducible.
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return sigma * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
