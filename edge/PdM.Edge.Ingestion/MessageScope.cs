using PdM.Edge.Ingestion.Model;

namespace PdM.Edge.Ingestion;

/// <summary>
/// The readings of the message being decoded, held back until the whole message has parsed: a decoder
/// that fails half-way (truncated JSON, an unknown Sparkplug alias) must not have emitted the first half.
/// Buffers grow to the largest message seen and are reused, so steady state allocates nothing.
/// </summary>
internal sealed class MessageScope
{
    private Entry[] _entries = new Entry[64];
    private readonly int[] _seenStamp;
    private int _stamp;

    public MessageScope(int sensorCount)
    {
        _seenStamp = new int[Math.Max(1, sensorCount)];
    }

    public int Count { get; private set; }

    public ref Entry this[int index] => ref _entries[index];

    public void Clear() => Count = 0;

    /// <summary>Starts a new snapshot for duplicate-key detection (one JSON readings object).</summary>
    public void BeginSnapshot()
    {
        _stamp++;
        if (_stamp == int.MaxValue)
        {
            Array.Clear(_seenStamp);
            _stamp = 1;
        }
    }

    /// <summary>False when the sensor already appeared in the current snapshot (a duplicate JSON key).</summary>
    public bool MarkSeen(SensorEntry sensor)
    {
        if (_seenStamp[sensor.Key] == _stamp)
        {
            return false;
        }

        _seenStamp[sensor.Key] = _stamp;
        return true;
    }

    public void Add(AssetEntry? asset, SensorEntry? sensor, long timeMs, double value, ReadingTraits flags, RejectReason preReason = RejectReason.None, string? detail = null)
    {
        if (Count == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
        }

        ref var entry = ref _entries[Count++];
        entry.Asset = asset;
        entry.Sensor = sensor;
        entry.TimeMs = timeMs;
        entry.Value = value;
        entry.Flags = flags;
        entry.PreReason = preReason;
        entry.Detail = detail;
    }

    /// <summary>Sets the device time of entries [start, Count) once a snapshot's deviceTime is known (JSON keys come in any order).</summary>
    public void SetTime(int start, long timeMs, ReadingTraits extraFlags)
    {
        for (var i = start; i < Count; i++)
        {
            _entries[i].TimeMs = timeMs;
            _entries[i].Flags |= extraFlags;
        }
    }

    internal struct Entry
    {
        public AssetEntry? Asset;
        public SensorEntry? Sensor;
        public long TimeMs;
        public double Value;
        public ReadingTraits Flags;
        public RejectReason PreReason;
        public string? Detail;
    }
}
