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
    }
}
