namespace PdM.Features;

/// <summary>
/// One completed window of one asset: the feature values in spec order. The spans point into the engine's buffers
/// and are valid only during the <see cref="FeatureVectorHandler"/> call; copy them (or call <see cref="ToSnapshot"/>)
/// to keep them.
/// </summary>
public readonly ref struct FeatureVector
{
    internal FeatureVector(string assetId, int assetSlot, long windowStartUnixMs, long windowEndUnixMs, int readingCount,
        ReadOnlySpan<float> values, ReadOnlySpan<double> exactValues)
    {
        AssetId = assetId;
        AssetSlot = assetSlot;
        WindowStartUnixMs = windowStartUnixMs;
        WindowEndUnixMs = windowEndUnixMs;
        ReadingCount = readingCount;
        Values = values;
        ExactValues = exactValues;
    }

    /// <summary>The asset the window belongs to.</summary>
    public string AssetId { get; }

    /// <summary>The asset's slot in the engine that emitted the vector.</summary>
    public int AssetSlot { get; }

    /// <summary>Inclusive window start: the aligned start for time windows, the first tick's event time for count windows.</summary>
    public long WindowStartUnixMs { get; }

    /// <summary>Exclusive window end: start + length for time windows, the last tick's event time + 1 for count windows.</summary>
    public long WindowEndUnixMs { get; }

    /// <summary>Readings (all sensors of the spec) inside the default window.</summary>
    public int ReadingCount { get; }

    /// <summary>Feature values as float32 in spec order, the ONNX input row. NaN where a sensor had no readings.</summary>
    public ReadOnlySpan<float> Values { get; }

    /// <summary>The same values in double precision, before the float32 rounding.</summary>
    public ReadOnlySpan<double> ExactValues { get; }

    /// <summary>Copies the vector into a heap object that outlives the handler call.</summary>
    public FeatureVectorSnapshot ToSnapshot() =>
        new(AssetId, WindowStartUnixMs, WindowEndUnixMs, ReadingCount, Values.ToArray(), ExactValues.ToArray());
}

/// <summary>Receives completed vectors synchronously from <see cref="FeatureEngine"/>; must not call back into the engine.</summary>
public delegate void FeatureVectorHandler(in FeatureVector vector);

/// <summary>A copied <see cref="FeatureVector"/>. Equality compares every value (NaN equals NaN).</summary>
public sealed record FeatureVectorSnapshot(
    string AssetId,
    long WindowStartUnixMs,
    long WindowEndUnixMs,
    int ReadingCount,
    float[] Values,
    double[] ExactValues)
{
    /// <inheritdoc />
    public bool Equals(FeatureVectorSnapshot? other) =>
        other is not null
        && string.Equals(AssetId, other.AssetId, StringComparison.Ordinal)
        && WindowStartUnixMs == other.WindowStartUnixMs
        && WindowEndUnixMs == other.WindowEndUnixMs
        && ReadingCount == other.ReadingCount
        && Values.AsSpan().SequenceEqual(other.Values)
        && ExactValues.AsSpan().SequenceEqual(other.ExactValues);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(AssetId, WindowStartUnixMs, WindowEndUnixMs, ReadingCount);
}

/// <summary>One historical reading for <see cref="FeatureEngine.ComputeOffline"/>.</summary>
public readonly record struct FeatureReading(string AssetId, string Sensor, long TimestampUnixMs, double Value);

/// <summary>What happened to a reading passed to <see cref="FeatureEngine.Add(int, int, long, double)"/>.</summary>
public enum ReadingOutcome
{
    /// <summary>Buffered; it will count in every window whose range contains its event time.</summary>
    Accepted,

    /// <summary>Older than the asset's watermark (max event time − watermarkMs): dropped and counted as late.</summary>
    Late,

    /// <summary>The asset slot is not registered: dropped and counted as rejected.</summary>
    UnknownAsset,

    /// <summary>No feature of the spec reads this sensor: dropped and counted as rejected.</summary>
    UnknownSensor,

    /// <summary>The value is NaN or infinite: dropped and counted as rejected.</summary>
    NotFinite,
}
