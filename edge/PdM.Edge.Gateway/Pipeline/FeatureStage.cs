using PdM.Edge.Ingestion;
using PdM.Edge.Ingestion.Model;
using PdM.Features;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// Feeds accepted readings into the shared <see cref="FeatureEngine"/> and keeps each asset's latest closed window.
/// Slots and sensor indices are resolved once at start from the asset model, so the per-reading path is two array
/// lookups and the engine's own allocation-free <c>Add</c>.
/// </summary>
public sealed class FeatureStage
{
    private readonly FeatureEngine _engine;
    private readonly int[] _slotBySensorKey;
    private readonly int[] _featureIndexBySensorKey;
    private readonly float[][] _latest;
    private readonly long[] _latestWindowEnd;
    private readonly List<ClosedWindow> _closed = [];

    public FeatureStage(AssetModel model, FeatureSpec spec, FeatureTelemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(spec);
        _engine = new FeatureEngine(spec, OnWindowClosed, telemetry);
        _slotBySensorKey = new int[model.SensorCount];
        _featureIndexBySensorKey = new int[model.SensorCount];
        _latest = new float[model.Assets.Count][];
        _latestWindowEnd = new long[model.Assets.Count];
        foreach (var asset in model.Assets)
        {
            var slot = _engine.RegisterAsset(asset.Id);
            _latest[slot] = new float[_engine.FeatureCount];
            foreach (var sensor in asset.Sensors)
            {
                _slotBySensorKey[sensor.Key] = slot;
                _featureIndexBySensorKey[sensor.Key] = _engine.GetSensorIndex(sensor.Id);
            }
        }
    }

    public FeatureSpec Spec => _engine.Spec;

    public long WindowsClosed { get; private set; }

    /// <summary>Windows closed since the last <see cref="ClearClosed"/>: what the decision stage scores next.</summary>
    public IReadOnlyList<ClosedWindow> Closed => _closed;

    public void ClearClosed() => _closed.Clear();

    /// <summary>Adds one validated live reading; sensors no feature reads are skipped.</summary>
    public void Add(in Reading reading)
    {
        var sensorIndex = _featureIndexBySensorKey[reading.SensorKey];
        if (sensorIndex >= 0)
        {
            _engine.Add(_slotBySensorKey[reading.SensorKey], sensorIndex, reading.DeviceTimeUnixMs, reading.Value);
        }
    }

    /// <summary>The asset's latest closed window in spec order, or false before its first window closed.</summary>
    public bool TryGetLatest(string assetId, out ReadOnlySpan<float> values, out long windowEndUnixMs)
    {
        if (_engine.TryGetAssetSlot(assetId, out var slot) && _latestWindowEnd[slot] != 0)
        {
            values = _latest[slot];
            windowEndUnixMs = _latestWindowEnd[slot];
            return true;
        }

        values = default;
        windowEndUnixMs = 0;
        return false;
    }

    private void OnWindowClosed(in FeatureVector vector)
    {
        vector.Values.CopyTo(_latest[vector.AssetSlot]);
        _latestWindowEnd[vector.AssetSlot] = vector.WindowEndUnixMs;
        WindowsClosed++;

        // One array per closed window (not per reading): the decision request keeps it while a batch is scored.
        _closed.Add(new ClosedWindow(vector.AssetId, vector.WindowStartUnixMs, vector.WindowEndUnixMs, vector.Values.ToArray(), vector.ExactValues.ToArray()));
    }
}

/// <summary>
/// A closed feature window of one asset, in the spec's feature order: float32 for the model's input tensor, and the
/// exact doubles for the rules, whose evidence a planner reads (8.2 mm/s, not 8.1999998).
/// </summary>
public sealed record ClosedWindow(string AssetId, long WindowStartUnixMs, long WindowEndUnixMs, float[] Values, double[] ExactValues);
