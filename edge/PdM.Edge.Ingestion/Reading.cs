namespace PdM.Edge.Ingestion;

/// <summary>
/// One accepted sensor value: (site, asset, sensor, device time, value). The three strings are the asset
/// model's own instances (never allocated per reading); <see cref="SensorKey"/> is the model's dense sensor
/// index, so downstream per-sensor state can live in arrays instead of dictionaries.
/// </summary>
public readonly record struct Reading(
    string SiteId,
    string AssetId,
    string SensorId,
    int SensorKey,
    long DeviceTimeUnixMs,
    double Value,
    ReadingTraits Flags)
{
    /// <summary>Store-and-forward or Sparkplug historical data: keep it, but take no live decision on it.</summary>
    public bool IsHistorical => (Flags & ReadingTraits.Historical) != 0;

    public DateTimeOffset DeviceTime => DateTimeOffset.FromUnixTimeMilliseconds(DeviceTimeUnixMs);
}

[Flags]
public enum ReadingTraits
{
    None = 0,

    /// <summary>Sparkplug <c>is_historical</c>: not for live decisions.</summary>
    Historical = 1,

    /// <summary>Sparkplug <c>is_transient</c>: the device asks that it not be stored.</summary>
    Transient = 2,

    /// <summary>The payload carried no device time; the receive time stands in for it.</summary>
    TimeFromReceipt = 4,

    /// <summary>The value came with a Sparkplug NBIRTH/DBIRTH (the current value at birth).</summary>
    Birth = 8,
}
