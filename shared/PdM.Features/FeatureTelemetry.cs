using System.Diagnostics.Metrics;

namespace PdM.Features;

/// <summary>
/// Owns the feature engine's <see cref="Meter"/> (<c>PdM.Features</c>). Counters carry no asset tag on purpose:
/// per-asset figures are read from the engine (<see cref="FeatureEngine.GetLateReadings"/>), which keeps metric
/// cardinality bounded on a gateway with thousands of assets.
/// </summary>
public sealed class FeatureTelemetry : IDisposable
{
    /// <summary>Meter name to subscribe to (OpenTelemetry <c>AddMeter</c>).</summary>
    public const string MeterName = "PdM.Features";

    private static readonly KeyValuePair<string, object?> UnknownAssetTag = new("reason", "unknown_asset");
    private static readonly KeyValuePair<string, object?> UnknownSensorTag = new("reason", "unknown_sensor");
    private static readonly KeyValuePair<string, object?> NotFiniteTag = new("reason", "not_finite");

    private readonly Meter _meter;
    private readonly Counter<long> _late;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _vectors;

    /// <summary>Creates the meter through <paramref name="meterFactory"/> when given (DI), else a standalone one.</summary>
    public FeatureTelemetry(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _late = _meter.CreateCounter<long>("pdm.features.late_readings", "{reading}",
            "Readings older than the asset's watermark, dropped.");
        _rejected = _meter.CreateCounter<long>("pdm.features.rejected_readings", "{reading}",
            "Readings dropped for an unknown asset slot, a sensor no feature reads, or a non-finite value.");
        _vectors = _meter.CreateCounter<long>("pdm.features.vectors", "{vector}",
            "Feature vectors emitted (closed, non-empty windows).");
    }

    /// <summary>Process-wide instance used when an engine is given none.</summary>
    public static FeatureTelemetry Shared { get; } = new();

    internal void Late() => _late.Add(1);

    internal void Rejected(ReadingOutcome outcome) => _rejected.Add(1, outcome switch
    {
        ReadingOutcome.UnknownAsset => UnknownAssetTag,
        ReadingOutcome.UnknownSensor => UnknownSensorTag,
        _ => NotFiniteTag,
    });

    internal void Vector() => _vectors.Add(1);

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
