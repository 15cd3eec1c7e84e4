using System.Diagnostics.CodeAnalysis;

namespace PdM.Edge.Ingestion.Model;

/// <summary>
/// The compiled, read-only site asset model. Identity resolution on the hot path goes through it: a decoder
/// looks an asset or sensor up by a span of characters and gets back the model's own objects, so every
/// accepted <see cref="Reading"/> carries the model's string instances (no string per reading) and a dense
/// <see cref="SensorEntry.Key"/> for array-indexed per-sensor state downstream.
/// </summary>
public sealed class AssetModel
{
    /// <summary>Longest asset or sensor id accepted; longer names in payloads cannot match and are not copied.</summary>
    public const int MaxIdLength = 128;

    private readonly Dictionary<string, AssetEntry> _assets;
    private readonly Dictionary<string, AssetEntry>.AlternateLookup<ReadOnlySpan<char>> _assetLookup;
    private readonly SensorEntry[] _sensorsByKey;

    private AssetModel(string siteId, Dictionary<string, AssetEntry> assets, SensorEntry[] sensorsByKey, AssetEntry[] ordered)
    {
        SiteId = siteId;
        _assets = assets;
        _assetLookup = assets.GetAlternateLookup<ReadOnlySpan<char>>();
        _sensorsByKey = sensorsByKey;
        Assets = ordered;
    }

    public string SiteId { get; }

    public IReadOnlyList<AssetEntry> Assets { get; }

    /// <summary>Number of sensors across all assets; <see cref="SensorEntry.Key"/> runs from 0 to this minus one.</summary>
    public int SensorCount => _sensorsByKey.Length;

    public SensorEntry SensorByKey(int key) => _sensorsByKey[key];

    public bool TryGetAsset(ReadOnlySpan<char> assetId, [NotNullWhen(true)] out AssetEntry? asset) => _assetLookup.TryGetValue(assetId, out asset);

    public bool TryGetAsset(string assetId, [NotNullWhen(true)] out AssetEntry? asset) => _assets.TryGetValue(assetId, out asset);

    /// <summary>Compiles validated options. Throws <see cref="ArgumentException"/> when they are invalid: this runs at start, not per message.</summary>
    public static AssetModel Create(SiteAssetModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid asset model: " + string.Join(" ", errors), nameof(options));
        }

        var assets = new Dictionary<string, AssetEntry>(StringComparer.Ordinal);
        var ordered = new AssetEntry[options.Assets.Count];
        var sensors = new List<SensorEntry>();
        for (var i = 0; i < options.Assets.Count; i++)
        {
            var definition = options.Assets[i];
            var asset = new AssetEntry(options.SiteId, definition, i, sensors);
            assets.Add(asset.Id, asset);
            ordered[i] = asset;
        }

        return new AssetModel(options.SiteId, assets, [.. sensors], ordered);
    }
}

/// <summary>One asset of the compiled model.</summary>
public sealed class AssetEntry
{
    private readonly Dictionary<string, SensorEntry> _sensors;
    private readonly Dictionary<string, SensorEntry>.AlternateLookup<ReadOnlySpan<char>> _sensorLookup;

    internal AssetEntry(string siteId, AssetDefinition definition, int index, List<SensorEntry> allSensors)
    {
        SiteId = siteId;
        Id = definition.Id;
        AssetClass = definition.AssetClass;
        CmmsRefs = new Dictionary<string, string>(definition.CmmsRefs, StringComparer.Ordinal);
        Index = index;
        _sensors = new Dictionary<string, SensorEntry>(StringComparer.Ordinal);
        var ordered = new SensorEntry[definition.Sensors.Count];
        for (var i = 0; i < ordered.Length; i++)
        {
            var sensor = new SensorEntry(this, definition.Sensors[i], allSensors.Count);
            allSensors.Add(sensor);
            _sensors.Add(sensor.Id, sensor);
            ordered[i] = sensor;
        }

        Sensors = ordered;
        _sensorLookup = _sensors.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string SiteId { get; }

    public string Id { get; }

    public string AssetClass { get; }

    public IReadOnlyDictionary<string, string> CmmsRefs { get; }

    /// <summary>Position in <see cref="AssetModel.Assets"/>.</summary>
    public int Index { get; }

    public IReadOnlyList<SensorEntry> Sensors { get; }

    public bool TryGetSensor(ReadOnlySpan<char> sensorId, [NotNullWhen(true)] out SensorEntry? sensor) => _sensorLookup.TryGetValue(sensorId, out sensor);

    public bool TryGetSensor(string sensorId, [NotNullWhen(true)] out SensorEntry? sensor) => _sensors.TryGetValue(sensorId, out sensor);

    public override string ToString() => Id;
}

/// <summary>One sensor of an asset of the compiled model.</summary>
public sealed class SensorEntry
{
    internal SensorEntry(AssetEntry asset, SensorDefinition definition, int key)
    {
        Asset = asset;
        Id = definition.Id;
        Unit = definition.Unit;
        ValidMin = definition.ValidMin;
        ValidMax = definition.ValidMax;
        NominalRateHz = definition.NominalRateHz;
        Key = key;
    }

    public AssetEntry Asset { get; }

    public string Id { get; }

    public string Unit { get; }

    public double ValidMin { get; }

    public double ValidMax { get; }

    public double NominalRateHz { get; }

    /// <summary>Dense index over all sensors of the site (0..<see cref="AssetModel.SensorCount"/>-1).</summary>
    public int Key { get; }

    public override string ToString() => Asset.Id + "/" + Id;
}
