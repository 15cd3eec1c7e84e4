using System.Globalization;
using System.Text.Json.Serialization;

namespace PdM.Features;

/// <summary>
/// The feature recipe that travels inside every model package, so that training and the gateway compute
/// identical features. JSON: <c>{"specVersion":1,"window":{...},"features":[...]}</c> (see README.md).
/// </summary>
/// <remarks>
/// Equality is by value, including the feature list, so two specs that serialise to the same JSON are equal.
/// Build one with <see cref="Parse"/> (which validates) or with an object initializer followed by
/// <see cref="Validate"/>; <see cref="FeatureEngine"/> validates again on construction.
/// Embedded in another JSON document (e.g. a model manifest) it is written and read in this same canonical form
/// through <see cref="FeatureSpecJsonConverter"/>.
/// </remarks>
[JsonConverter(typeof(FeatureSpecJsonConverter))]
public sealed record FeatureSpec
{
    /// <summary>The only spec version this library reads and writes.</summary>
    public const int CurrentVersion = 1;

    private IReadOnlyList<FeatureDefinition>? _sensorsSource;
    private IReadOnlyList<string>? _sensors;

    /// <summary>Format version of the spec; must be <see cref="CurrentVersion"/>.</summary>
    public int SpecVersion { get; init; } = CurrentVersion;

    /// <summary>Default window for features that name none; it also sets when vectors are emitted.</summary>
    public required WindowSpec Window { get; init; }

    /// <summary>Features in output order: the order of the values in every <see cref="FeatureVector"/>.</summary>
    public required IReadOnlyList<FeatureDefinition> Features { get; init; }

    /// <summary>Distinct sensor names in first-use order; the sensor index used by the engine's hot path.</summary>
    public IReadOnlyList<string> Sensors
    {
        get
        {
            // Cached per Features instance: a `with` expression that swaps Features must not see stale sensors.
            var features = Features;
            if (!ReferenceEquals(_sensorsSource, features) || _sensors is null)
            {
                var list = new List<string>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var feature in features)
                {
                    if (feature?.Sensor is { } sensor && seen.Add(sensor))
                    {
                        list.Add(sensor);
                    }
                }

                _sensors = list.AsReadOnly();
                _sensorsSource = features;
            }

            return _sensors;
        }
    }

    /// <summary>
    /// The sensors this spec reads that <paramref name="available"/> lacks, in first-use order: an asset that misses
    /// any cannot feed a model with this spec, and its windows keep the rules. The registry checks it against the
    /// gateways' asset inventories before a deployment, the gateway against its asset model when it loads the model.
    /// </summary>
    public IReadOnlyList<string> MissingSensors(IEnumerable<string> available)
    {
        ArgumentNullException.ThrowIfNull(available);
        var have = available as IReadOnlySet<string> ?? new HashSet<string>(available, StringComparer.Ordinal);
        return [.. Sensors.Where(s => !have.Contains(s))];
    }

    /// <summary>Parses and validates a spec.</summary>
    /// <exception cref="FeatureSpecException">The JSON is malformed or the spec is invalid; the message says what and where.</exception>
    public static FeatureSpec Parse(string json) => FeatureSpecJson.Parse(json);

    /// <summary>Serialises to the canonical camelCase JSON form (unused window fields omitted).</summary>
    public string ToJson() => FeatureSpecJson.Write(this);

    /// <summary>Throws <see cref="FeatureSpecException"/> listing every problem if the spec is not usable.</summary>
    public void Validate()
    {
        var errors = FeatureSpecValidator.Validate(this);
        if (errors.Count > 0)
        {
            throw new FeatureSpecException(errors);
        }
    }

    /// <summary>The window a feature is computed over: its own, or the spec's default.</summary>
    public WindowSpec WindowOf(FeatureDefinition feature)
    {
        ArgumentNullException.ThrowIfNull(feature);
        return feature.Window ?? Window;
    }

    /// <inheritdoc />
    public bool Equals(FeatureSpec? other)
    {
        if (other is null)
        {
            return false;
        }

        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (SpecVersion != other.SpecVersion || Window != other.Window || Features.Count != other.Features.Count)
        {
            return false;
        }

        for (var i = 0; i < Features.Count; i++)
        {
            if (Features[i] != other.Features[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(SpecVersion);
        hash.Add(Window);
        foreach (var feature in Features)
        {
            hash.Add(feature);
        }

        return hash.ToHashCode();
    }
}

/// <summary>
/// A window definition. JSON: <c>{"kind":"count","size":30,"hop":10,"watermarkMs":0}</c> or
/// <c>{"kind":"time","lengthMs":60000,"hopMs":60000,"watermarkMs":5000}</c>.
/// </summary>
public sealed record WindowSpec
{
    /// <summary>Count windows hold a fixed number of event-time ticks; time windows a fixed span of event time.</summary>
    public required WindowKind Kind { get; init; }

    /// <summary>Ticks (distinct event timestamps of the asset) per window, for <see cref="WindowKind.Count"/>.</summary>
    public int Size { get; init; }

    /// <summary>Ticks between window starts (<see cref="WindowKind.Count"/>); 0 or == <see cref="Size"/> means tumbling.</summary>
    public int Hop { get; init; }

    /// <summary>Window length in milliseconds (<see cref="WindowKind.Time"/>).</summary>
    public long LengthMs { get; init; }

    /// <summary>Milliseconds between window starts (<see cref="WindowKind.Time"/>); 0 or == <see cref="LengthMs"/> means tumbling.</summary>
    public long HopMs { get; init; }

    /// <summary>Allowed lateness: readings older than (max event time seen for the asset − watermark) are dropped and counted.</summary>
    public long WatermarkMs { get; init; }

    /// <summary>The hop actually used: <see cref="Size"/> or <see cref="LengthMs"/> when the hop is 0.</summary>
    public long EffectiveHop => Kind == WindowKind.Count
        ? (Hop == 0 ? Size : Hop)
        : (HopMs == 0 ? LengthMs : HopMs);

    /// <summary>True when consecutive windows do not overlap.</summary>
    public bool IsTumbling => Kind == WindowKind.Count ? Hop == 0 || Hop == Size : HopMs == 0 || HopMs == LengthMs;

    /// <summary>A count window of <paramref name="size"/> ticks (hop 0 = tumbling).</summary>
    public static WindowSpec Count(int size, int hop = 0, long watermarkMs = 0) =>
        new() { Kind = WindowKind.Count, Size = size, Hop = hop, WatermarkMs = watermarkMs };

    /// <summary>A time window of <paramref name="lengthMs"/> (hop 0 = tumbling).</summary>
    public static WindowSpec Time(long lengthMs, long hopMs = 0, long watermarkMs = 0) =>
        new() { Kind = WindowKind.Time, LengthMs = lengthMs, HopMs = hopMs, WatermarkMs = watermarkMs };

    /// <inheritdoc />
    public override string ToString() => Kind == WindowKind.Count
        ? string.Create(CultureInfo.InvariantCulture, $"count(size={Size}, hop={Hop}, watermarkMs={WatermarkMs})")
        : string.Create(CultureInfo.InvariantCulture, $"time(lengthMs={LengthMs}, hopMs={HopMs}, watermarkMs={WatermarkMs})");
}

/// <summary>How a window is measured.</summary>
public enum WindowKind
{
    /// <summary>A fixed number of ticks (distinct event timestamps of the asset).</summary>
    Count,

    /// <summary>A fixed span of event time, aligned to the Unix epoch.</summary>
    Time,
}

/// <summary>The feature functions; exact definitions are in README.md and on <see cref="FeatureMath"/>.</summary>
public enum FeatureFunction
{
    /// <summary>Arithmetic mean.</summary>
    Mean,

    /// <summary>Population standard deviation (divides by n).</summary>
    Std,

    /// <summary>Minimum.</summary>
    Min,

    /// <summary>Maximum.</summary>
    Max,

    /// <summary>Root mean square: sqrt(Σx²/n).</summary>
    Rms,

    /// <summary>max − min.</summary>
    PeakToPeak,

    /// <summary>max|x| / RMS; 1 when RMS is 0.</summary>
    CrestFactor,

    /// <summary>Population skewness g1 = m3 / m2^1.5; 0 for a constant signal.</summary>
    Skewness,

    /// <summary>Population excess kurtosis g2 = m4 / m2² − 3; 0 for a constant signal.</summary>
    Kurtosis,

    /// <summary>Least-squares slope of value against event time in seconds (units per second).</summary>
    Slope,

    /// <summary>Exponentially weighted moving average over the window in time order, seeded with the first value.</summary>
    Ewma,

    /// <summary>The latest value in the window.</summary>
    Last,

    /// <summary>Last − baseline (fixed, or the mean of the asset's first window).</summary>
    DeltaFromBaseline,
}

/// <summary>One output feature. JSON: <c>{"name":"vib_rms_mean","sensor":"vibration_rms_mm_s","function":"mean"}</c>.</summary>
public sealed record FeatureDefinition
{
    /// <summary>Unique output name (the ONNX input column).</summary>
    public required string Name { get; init; }

    /// <summary>Sensor (metric) name the feature reads.</summary>
    public required string Sensor { get; init; }

    /// <summary>The function applied to the sensor's readings in the window.</summary>
    public required FeatureFunction Function { get; init; }

    /// <summary>
    /// Overrides the spec's default window as a look-back: the feature is evaluated when the default window closes,
    /// over the readings in this window's length ending where the default window ends. Its hop must be 0 (or equal
    /// to its length) and its watermark 0 or equal to the default's, because the default window alone schedules emission.
    /// </summary>
    public WindowSpec? Window { get; init; }

    /// <summary>Ewma smoothing factor in (0, 1]: s = α·x + (1 − α)·s.</summary>
    public double? Alpha { get; init; }

    /// <summary>DeltaFromBaseline: last − baseline; if null, baseline = mean of the asset's first window with readings of the sensor.</summary>
    public double? Baseline { get; init; }
}

/// <summary>A feature spec is malformed or invalid; <see cref="Errors"/> lists every problem found.</summary>
public sealed class FeatureSpecException : Exception
{
    /// <summary>Creates an exception with a single reason.</summary>
    public FeatureSpecException()
        : this("the feature spec is invalid")
    {
    }

    /// <summary>Creates an exception with a single reason.</summary>
    public FeatureSpecException(string message)
        : base(message)
    {
        Errors = [message];
    }

    /// <summary>Creates an exception with a single reason and its cause.</summary>
    public FeatureSpecException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    /// <summary>Creates an exception listing every problem; the message joins them with "; ".</summary>
    public FeatureSpecException(IReadOnlyList<string> errors)
        : base(JoinErrors(errors))
    {
        Errors = errors;
    }

    /// <summary>Each problem, precise about where it is (e.g. <c>features[2] ('x'): ewma needs alpha in (0, 1], got 1.5</c>).</summary>
    public IReadOnlyList<string> Errors { get; }

    private static string JoinErrors(IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return "invalid feature spec: " + string.Join("; ", errors);
    }
}
