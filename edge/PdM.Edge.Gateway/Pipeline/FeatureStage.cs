using System.Diagnostics;
using PdM.Edge.Ingestion;
using PdM.Edge.Ingestion.Model;
using PdM.Features;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// Feeds accepted readings into one <see cref="FeatureEngine"/> per feature spec (each asset runs its class's spec,
/// <see cref="FeatureSpecCatalog"/>) and keeps each asset's latest closed window. Engine, slot and sensor index are
/// resolved once at start from the asset model, so the per-reading path is three array lookups and the engine's own
/// allocation-free <c>Add</c>.
/// </summary>
public sealed class FeatureStage
{
    private readonly FeatureEngine[] _engines;
    private readonly ClassFeatureSpec[] _specs;
    private readonly int[] _engineBySensorKey;
    private readonly int[] _slotBySensorKey;
    private readonly int[] _featureIndexBySensorKey;
    private readonly Dictionary<string, int> _assetIndex = new(StringComparer.Ordinal);
    private readonly int[] _engineByAsset;
    private readonly int[][] _assetBySlot;
    private readonly float[][] _latest;
    private readonly long[] _latestWindowEnd;
    private readonly List<ClosedWindow> _closed = [];

    // Tracing only (BeginMessage with track on): per asset, the messages whose readings reached it since its last
    // closed window, counted, and the trace contexts of those that carried one (at most MaxMessageLinks).
    private readonly int[] _assetBySensorKey;
    private readonly long[] _lastMessageOfAsset;
    private readonly int[] _messagesOfAsset;
    private readonly List<ActivityContext>?[] _linksOfAsset;
    private long _message;
    private bool _trackMessages;
    private ActivityContext _messageContext;

    // Closed windows are reused: per engine, the windows handed out since the last ClearClosed are the first
    // _pooledInUse[e] of _pool[e] (each sized to its engine's feature count).
    private readonly List<ClosedWindow>[] _pool;
    private readonly int[] _pooledInUse;

    public FeatureStage(AssetModel model, FeatureSpecCatalog specs, FeatureTelemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(specs);
        Catalog = specs;
        _specs = [.. specs.All];
        _engines = new FeatureEngine[_specs.Length];
        _pool = new List<ClosedWindow>[_specs.Length];
        _pooledInUse = new int[_specs.Length];
        for (var e = 0; e < _engines.Length; e++)
        {
            var engine = e;
            _engines[e] = new FeatureEngine(_specs[e].Spec, (in FeatureVector vector) => OnWindowClosed(engine, vector), telemetry);
            _pool[e] = [];
        }

        _engineBySensorKey = new int[model.SensorCount];
        _slotBySensorKey = new int[model.SensorCount];
        _featureIndexBySensorKey = new int[model.SensorCount];
        _assetBySensorKey = new int[model.SensorCount];
        _lastMessageOfAsset = new long[model.Assets.Count];
        _messagesOfAsset = new int[model.Assets.Count];
        _linksOfAsset = new List<ActivityContext>?[model.Assets.Count];
        _engineByAsset = new int[model.Assets.Count];
        _latest = new float[model.Assets.Count][];
        _latestWindowEnd = new long[model.Assets.Count];
        var slots = new List<int>[_engines.Length];
        for (var e = 0; e < slots.Length; e++)
        {
            slots[e] = [];
        }

        for (var a = 0; a < model.Assets.Count; a++)
        {
            var asset = model.Assets[a];
            var e = Array.IndexOf(_specs, specs.For(asset.AssetClass));
            var engine = _engines[e];
            var slot = engine.RegisterAsset(asset.Id);
            _assetIndex[asset.Id] = a;
            _engineByAsset[a] = e;
            slots[e].Add(a);
            _latest[a] = new float[engine.FeatureCount];
            foreach (var sensor in asset.Sensors)
            {
                _engineBySensorKey[sensor.Key] = e;
                _slotBySensorKey[sensor.Key] = slot;
                _featureIndexBySensorKey[sensor.Key] = engine.GetSensorIndex(sensor.Id);
                _assetBySensorKey[sensor.Key] = a;
            }
        }

        _assetBySlot = new int[_engines.Length][];
        for (var e = 0; e < slots.Length; e++)
        {
            _assetBySlot[e] = [.. slots[e]];
        }
    }

    /// <summary>The default spec (classes without their own spec).</summary>
    public FeatureSpec Spec => Catalog.Default.Spec;

    public FeatureSpecCatalog Catalog { get; }

    public long WindowsClosed { get; private set; }

    /// <summary>
    /// Windows closed since the last <see cref="ClearClosed"/>: what the decision stage scores next. They are valid until
    /// then: the stage reuses them for the next windows (copy what must outlive the batch).
    /// </summary>
    public IReadOnlyList<ClosedWindow> Closed => _closed;

    public void ClearClosed()
    {
        _closed.Clear();
        Array.Clear(_pooledInUse);
    }

    /// <summary>The most trace links a decision span carries: a window of a fast sensor can hold thousands of messages.</summary>
    public const int MaxMessageLinks = 32;

    /// <summary>
    /// The readings added next come from one new message. With <paramref name="track"/> (spans are recorded), each
    /// window counts the messages it was fed by and keeps the trace contexts of those that carried one
    /// (<paramref name="context"/>, default for none); without it nothing is counted.
    /// </summary>
    public void BeginMessage(bool track, in ActivityContext context)
    {
        _trackMessages = track;
        _messageContext = context;
        _message++;
    }

    /// <summary>
    /// Test seam: called with each reading before its engine computes with it. A test makes it throw for one asset, as a
    /// bug in a feature function would, to show that the pipeline isolates that message (issue #16); null in production.
    /// </summary>
    internal Action<Reading>? BeforeAdd { get; set; }

    /// <summary>Adds one validated live reading; sensors no feature of the asset's spec reads are skipped.</summary>
    public void Add(in Reading reading)
    {
        BeforeAdd?.Invoke(reading);
        var key = reading.SensorKey;
        var sensorIndex = _featureIndexBySensorKey[key];
        if (sensorIndex >= 0)
        {
            _engines[_engineBySensorKey[key]].Add(_slotBySensorKey[key], sensorIndex, reading.DeviceTimeUnixMs, reading.Value);
            if (_trackMessages)
            {
                // After the add: a window the reading closed did not contain it.
                TrackMessage(_assetBySensorKey[key]);
            }
        }
    }

    private void TrackMessage(int asset)
    {
        if (_lastMessageOfAsset[asset] == _message)
        {
            return;
        }

        _lastMessageOfAsset[asset] = _message;
        _messagesOfAsset[asset]++;
        if (_messageContext != default)
        {
            var links = _linksOfAsset[asset] ??= [];
            if (links.Count < MaxMessageLinks)
            {
                links.Add(_messageContext);
            }
        }
    }

    /// <summary>The spec the asset's windows are computed with, or null for an asset not in the model.</summary>
    public ClassFeatureSpec? SpecOf(string assetId) =>
        _assetIndex.TryGetValue(assetId, out var a) ? _specs[_engineByAsset[a]] : null;

    /// <summary>The asset's latest closed window in its spec's order, or false before its first window closed.</summary>
    public bool TryGetLatest(string assetId, out ReadOnlySpan<float> values, out long windowEndUnixMs)
    {
        if (_assetIndex.TryGetValue(assetId, out var a) && _latestWindowEnd[a] != 0)
        {
            values = _latest[a];
            windowEndUnixMs = _latestWindowEnd[a];
            return true;
        }

        values = default;
        windowEndUnixMs = 0;
        return false;
    }

    private void OnWindowClosed(int engine, in FeatureVector vector)
    {
        var asset = _assetBySlot[engine][vector.AssetSlot];
        vector.Values.CopyTo(_latest[asset]);
        _latestWindowEnd[asset] = vector.WindowEndUnixMs;
        WindowsClosed++;

        // The decision request reads the window in place while its batch is scored; the window is reused after ClearClosed.
        var pool = _pool[engine];
        var index = _pooledInUse[engine]++;
        if (index == pool.Count)
        {
            pool.Add(new ClosedWindow(vector.AssetId, 0, 0, new float[vector.Values.Length], new double[vector.ExactValues.Length], _specs[engine]));
        }

        var window = pool[index];
        window.Set(vector.AssetId, vector.WindowStartUnixMs, vector.WindowEndUnixMs, vector.Values, vector.ExactValues);
        window.SetMessages(_messagesOfAsset[asset], _linksOfAsset[asset]);
        _messagesOfAsset[asset] = 0;
        _linksOfAsset[asset]?.Clear();
        _closed.Add(window);
    }
}

/// <summary>
/// A closed feature window of one asset, in its spec's feature order (<see cref="Features"/>): float32 for the model's
/// input tensor, and the exact doubles for the rules, whose evidence a planner reads (8.2 mm/s, not 8.1999998).
/// <see cref="FeatureStage"/> reuses its windows (see <see cref="FeatureStage.Closed"/>).
/// </summary>
public sealed class ClosedWindow(string assetId, long windowStartUnixMs, long windowEndUnixMs, float[] values, double[] exactValues, ClassFeatureSpec features)
{
    public string AssetId { get; private set; } = assetId;

    public long WindowStartUnixMs { get; private set; } = windowStartUnixMs;

    public long WindowEndUnixMs { get; private set; } = windowEndUnixMs;

    public float[] Values { get; } = values;

    public double[] ExactValues { get; } = exactValues;

    public ClassFeatureSpec Features { get; } = features;

    /// <summary>Messages whose readings reached the asset since its previous window closed (0 unless spans are recorded).</summary>
    public int MessageCount { get; private set; }

    /// <summary>Trace contexts devices sent with those messages (at most <see cref="FeatureStage.MaxMessageLinks"/>).</summary>
    public IReadOnlyList<ActivityContext> MessageLinks => (IReadOnlyList<ActivityContext>?)_links ?? [];

    private List<ActivityContext>? _links;

    internal void SetMessages(int count, List<ActivityContext>? links)
    {
        MessageCount = count;
        _links?.Clear();
        if (links is { Count: > 0 })
        {
            (_links ??= []).AddRange(links);
        }
    }

    internal void Set(string assetId, long windowStartUnixMs, long windowEndUnixMs, ReadOnlySpan<float> values, ReadOnlySpan<double> exactValues)
    {
        AssetId = assetId;
        WindowStartUnixMs = windowStartUnixMs;
        WindowEndUnixMs = windowEndUnixMs;
        values.CopyTo(Values);
        exactValues.CopyTo(ExactValues);
    }
}
