namespace PdM.Features;

/// <summary>
/// Per-asset streaming windows and feature computation for one <see cref="FeatureSpec"/>; the same code path serves
/// the gateway (streaming) and training (<see cref="ComputeOffline"/>), so both produce identical vectors.
/// </summary>
/// <remarks>
/// <para><b>Event-time order.</b> Each asset keeps its accepted readings sorted by (event time, sensor index, value).
/// That total order makes every window's contents, and so every feature, independent of arrival order: readings that
/// arrive shuffled within the watermark give bit-identical vectors.</para>
/// <para><b>Watermark and lateness.</b> Per asset, W = (max event time seen) − watermarkMs of the default window. A
/// reading with event time &lt; W is late: dropped, counted per asset (<see cref="GetLateReadings"/>) and on the
/// <c>pdm.features.late_readings</c> counter. Every reading with event time ≥ W is accepted and lands in the window(s)
/// its event time belongs to. No window is emitted while a reading could still arrive for it, so a late-but-accepted
/// reading never misses its window.</para>
/// <para><b>Time windows</b> are half-open [k·hop, k·hop + length) aligned to the Unix epoch. A window is emitted when
/// W ≥ its end, only if it holds at least one reading; empty windows (gaps) are skipped.</para>
/// <para><b>Count windows</b> count <i>ticks</i>: a tick is one distinct event timestamp of the asset, holding every
/// reading (any sensor) at that timestamp. A tick is final once W is past it (timestamp &lt; W), because no reading
/// for it can be accepted any more. Ticks are numbered 1, 2, … per asset in event-time order; a window of size N and
/// hop H is emitted when tick N + j·H becomes final and holds ticks [j·H + 1, j·H + N]. A count window always holds
/// exactly N ticks: partial count windows are not emitted, not even by <see cref="Flush(int)"/>.</para>
/// <para><b>Feature windows.</b> A feature with its own window is a look-back evaluated when the default window closes,
/// ending where the default window ends (end E, exclusive): a time look-back of L covers [E − L, E), a count look-back
/// of N covers the last N ticks before E (fewer at the start of a stream).</para>
/// <para><b>Incremental windows.</b> Each asset keeps one sliding window per window group and sensor
/// (<see cref="SlidingSeries"/>): a reading enters it when a closing window first covers it and leaves it when the
/// window's start passes it, so closing a window costs O(1) per reading for the incremental functions whatever the
/// window's length.</para>
/// <para><b>Threading.</b> Not thread-safe: one engine per pipeline thread. The handler runs synchronously inside
/// <see cref="Add(int, int, long, double)"/> or <see cref="Flush(int)"/> and must not call back into the engine.</para>
/// </remarks>
public sealed class FeatureEngine
{
    private const int InitialCapacity = 256;

    private readonly FeatureVectorHandler _handler;
    private readonly FeatureTelemetry _telemetry;
    private readonly Dictionary<string, int> _sensorIndex;
    private readonly Dictionary<string, int> _assetSlots = new(StringComparer.Ordinal);
    private readonly List<AssetState> _assets = [];
    private readonly WindowGroup[] _groups;
    private readonly int[] _featureSensor;
    private readonly FeatureFunction[] _featureFunction;
    private readonly double[] _featureAlpha;
    private readonly double[] _featureFixedBaseline;
    private readonly bool[] _featureLearnsBaseline;
    private readonly float[] _values;
    private readonly double[] _exactValues;
    private readonly int _sensorCount;
    private readonly WindowKind _kind;
    private readonly long _lengthMs;
    private readonly long _hopMs;
    private readonly int _size;
    private readonly int _hop;
    private readonly long _watermarkMs;
    private readonly long _maxTimeLookbackMs;
    private readonly int _maxCountLookback;
    private long _lateReadings;
    private long _rejectedReadings;
    private long _vectorsEmitted;
    private bool _emitting;

    /// <summary>Builds an engine; validates <paramref name="spec"/> first.</summary>
    /// <exception cref="FeatureSpecException">The spec is invalid.</exception>
    public FeatureEngine(FeatureSpec spec, FeatureVectorHandler handler, FeatureTelemetry? telemetry = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(handler);
        spec.Validate();
        Spec = spec;
        _handler = handler;
        _telemetry = telemetry ?? FeatureTelemetry.Shared;

        var window = spec.Window;
        _kind = window.Kind;
        _lengthMs = window.LengthMs;
        _hopMs = window.Kind == WindowKind.Time ? window.EffectiveHop : 0;
        _size = window.Size;
        _hop = window.Kind == WindowKind.Count ? (int)window.EffectiveHop : 0;
        _watermarkMs = window.WatermarkMs;

        var sensors = spec.Sensors;
        _sensorIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < sensors.Count; i++)
        {
            _sensorIndex.Add(sensors[i], i);
        }

        var n = spec.Features.Count;
        _featureSensor = new int[n];
        _featureFunction = new FeatureFunction[n];
        _featureAlpha = new double[n];
        _featureFixedBaseline = new double[n];
        _featureLearnsBaseline = new bool[n];
        _values = new float[n];
        _exactValues = new double[n];

        // Group features by look-back (kind, length) so each distinct range is gathered once per emission;
        // group 0 is always the default window, which decides the vector's start and reading count.
        var groupKeys = new List<(WindowKind Kind, long Length)> { (window.Kind, LengthOf(window)) };
        var groupMembers = new List<List<int>> { new() };
        for (var f = 0; f < n; f++)
        {
            var feature = spec.Features[f];
            _featureSensor[f] = _sensorIndex[feature.Sensor];
            _featureFunction[f] = feature.Function;
            _featureAlpha[f] = feature.Alpha ?? 1;
            _featureFixedBaseline[f] = feature.Baseline ?? 0;
            _featureLearnsBaseline[f] = feature.Function == FeatureFunction.DeltaFromBaseline && feature.Baseline is null;

            var own = spec.WindowOf(feature);
            var key = (own.Kind, LengthOf(own));
            var g = groupKeys.IndexOf(key);
            if (g < 0)
            {
                groupKeys.Add(key);
                groupMembers.Add([]);
                g = groupKeys.Count - 1;
            }

            groupMembers[g].Add(f);
        }

        _groups = new WindowGroup[groupKeys.Count];
        for (var g = 0; g < _groups.Length; g++)
        {
            _groups[g] = new WindowGroup(groupKeys[g].Kind, groupKeys[g].Length, [.. groupMembers[g]]);
            if (groupKeys[g].Kind == WindowKind.Time)
            {
                _maxTimeLookbackMs = Math.Max(_maxTimeLookbackMs, groupKeys[g].Length);
            }
            else
            {
                _maxCountLookback = (int)Math.Max(_maxCountLookback, groupKeys[g].Length);
            }
        }

        _sensorCount = sensors.Count;
    }

    /// <summary>The spec this engine computes.</summary>
    public FeatureSpec Spec { get; }

    /// <summary>Sensor names by sensor index (the spec's <see cref="FeatureSpec.Sensors"/>).</summary>
    public IReadOnlyList<string> Sensors => Spec.Sensors;

    /// <summary>Number of values in every vector.</summary>
    public int FeatureCount => _values.Length;

    /// <summary>Number of registered assets (slots 0 … AssetCount − 1).</summary>
    public int AssetCount => _assets.Count;

    /// <summary>Late readings dropped, all assets.</summary>
    public long LateReadings => _lateReadings;

    /// <summary>Readings rejected for an unknown asset slot, unknown sensor or non-finite value, all assets.</summary>
    public long RejectedReadings => _rejectedReadings;

    /// <summary>Vectors emitted, all assets.</summary>
    public long VectorsEmitted => _vectorsEmitted;

    /// <summary>Index of <paramref name="sensor"/> for the hot path, or −1 when no feature reads it.</summary>
    public int GetSensorIndex(string sensor)
    {
        ArgumentNullException.ThrowIfNull(sensor);
        return _sensorIndex.TryGetValue(sensor, out var index) ? index : -1;
    }

    /// <summary>Returns the slot of <paramref name="assetId"/>, registering it (and allocating its buffers) on first use.</summary>
    public int RegisterAsset(string assetId)
    {
        ArgumentException.ThrowIfNullOrEmpty(assetId);
        if (_assetSlots.TryGetValue(assetId, out var slot))
        {
            return slot;
        }

        slot = _assets.Count;
        _assets.Add(new AssetState(assetId, InitialCapacity, _values.Length, _groups, _sensorCount));
        _assetSlots.Add(assetId, slot);
        return slot;
    }

    /// <summary>Looks up a registered asset's slot.</summary>
    public bool TryGetAssetSlot(string assetId, out int slot) => _assetSlots.TryGetValue(assetId, out slot);

    /// <summary>The asset id of a slot.</summary>
    public string GetAssetId(int assetSlot) => _assets[assetSlot].AssetId;

    /// <summary>Late readings dropped for one asset.</summary>
    public long GetLateReadings(int assetSlot) => _assets[assetSlot].LateReadings;

    /// <summary>
    /// Hot path: adds one reading by resolved slot and sensor index. Allocates nothing once the asset's buffers have
    /// grown to the stream's steady-state window size. May emit vectors to the handler before returning.
    /// </summary>
    public ReadingOutcome Add(int assetSlot, int sensorIndex, long timestampUnixMs, double value)
    {
        if ((uint)assetSlot >= (uint)_assets.Count)
        {
            return Reject(ReadingOutcome.UnknownAsset);
        }

        if ((uint)sensorIndex >= (uint)_sensorCount)
        {
            return Reject(ReadingOutcome.UnknownSensor);
        }

        if (!double.IsFinite(value))
        {
            return Reject(ReadingOutcome.NotFinite);
        }

        if (_emitting)
        {
            throw new InvalidOperationException("A FeatureVectorHandler must not add readings to the engine that called it.");
        }

        var state = _assets[assetSlot];
        if (state.HasReadings && timestampUnixMs < Watermark(state))
        {
            state.LateReadings++;
            _lateReadings++;
            _telemetry.Late();
            return ReadingOutcome.Late;
        }

        Insert(state, new Reading(timestampUnixMs, sensorIndex, value));
        if (!state.HasReadings || timestampUnixMs > state.MaxTimestamp)
        {
            state.HasReadings = true;
            state.MaxTimestamp = timestampUnixMs;
            Advance(assetSlot, state, Watermark(state));
        }

        return ReadingOutcome.Accepted;
    }

    /// <summary>Convenience overload: resolves (and registers) the asset and resolves the sensor; allocation-free after the asset's first reading.</summary>
    public ReadingOutcome Add(string assetId, string sensor, long timestampUnixMs, double value)
    {
        ArgumentNullException.ThrowIfNull(sensor);
        var sensorIndex = GetSensorIndex(sensor);
        if (sensorIndex < 0)
        {
            return Reject(ReadingOutcome.UnknownSensor);
        }

        return Add(RegisterAsset(assetId), sensorIndex, timestampUnixMs, value);
    }

    /// <summary>
    /// End of stream for one asset: closes every time window that holds readings and every count window whose ticks
    /// are all present (as if the watermark passed everything), emits them, then clears the asset's buffers so a later
    /// reading starts a new stream. Learned baselines and late counts are kept.
    /// </summary>
    public void Flush(int assetSlot)
    {
        var state = _assets[assetSlot];
        if (state.HasReadings)
        {
            Advance(assetSlot, state, long.MaxValue);
        }

        state.Reset();
    }

    /// <summary>End of stream for every asset, in slot order.</summary>
    public void Flush()
    {
        for (var slot = 0; slot < _assets.Count; slot++)
        {
            Flush(slot);
        }
    }

    /// <summary>
    /// Batch helper for training: feeds <paramref name="readings"/> in the given order through a streaming engine,
    /// flushes every asset, and returns the vectors in emission order. Identical to streaming by construction; readings
    /// that would be late when streamed are dropped here too.
    /// </summary>
    public static IReadOnlyList<FeatureVectorSnapshot> ComputeOffline(FeatureSpec spec, IEnumerable<FeatureReading> readings)
    {
        ArgumentNullException.ThrowIfNull(readings);
        var output = new List<FeatureVectorSnapshot>();
        var engine = new FeatureEngine(spec, (in FeatureVector v) => output.Add(v.ToSnapshot()));
        foreach (var r in readings)
        {
            engine.Add(r.AssetId, r.Sensor, r.TimestampUnixMs, r.Value);
        }

        engine.Flush();
        return output;
    }

    private static long LengthOf(WindowSpec window) => window.Kind == WindowKind.Count ? window.Size : window.LengthMs;

    private static long FloorDiv(long a, long b)
    {
        var q = a / b;
        return (a % b != 0) && ((a < 0) != (b < 0)) ? q - 1 : q;
    }

    private long Watermark(AssetState state) =>
        state.MaxTimestamp < long.MinValue + _watermarkMs ? long.MinValue : state.MaxTimestamp - _watermarkMs;

    private ReadingOutcome Reject(ReadingOutcome outcome)
    {
        _rejectedReadings++;
        _telemetry.Rejected(outcome);
        return outcome;
    }

    private void Insert(AssetState state, Reading reading)
    {
        if (state.Count == state.Buffer.Length)
        {
            MakeRoom(state);
        }

        // Readings arrive nearly in order, so the insertion point is usually found from the end in a step or two. A
        // burst that shares one timestamp (many messages within a millisecond) sorts by sensor and value inside it,
        // so a reading can belong far from the end: past a few steps, binary search and move the tail in one copy
        // instead of comparing and moving one element at a time.
        const int LinearSteps = 8;
        var buffer = state.Buffer;
        var count = state.Count;
        var i = count - 1;
        var stop = Math.Max(state.Head, count - LinearSteps);
        while (i >= stop && reading.CompareTo(buffer[i]) < 0)
        {
            i--;
        }

        if (i >= stop || i < state.Head)
        {
            // Found within the linear steps (or the reading is the oldest): insert after i.
            Array.Copy(buffer, i + 1, buffer, i + 2, count - (i + 1));
            buffer[i + 1] = reading;
        }
        else
        {
            // The first element greater than the reading in [Head, stop): equal readings keep arrival order.
            var lo = state.Head;
            var hi = stop;
            while (lo < hi)
            {
                var mid = lo + ((hi - lo) >> 1);
                if (reading.CompareTo(buffer[mid]) < 0)
                {
                    hi = mid;
                }
                else
                {
                    lo = mid + 1;
                }
            }

            Array.Copy(buffer, lo, buffer, lo + 1, count - lo);
            buffer[lo] = reading;
        }

        state.Count++;
    }

    /// <summary>Drops readings no future window can need, compacts, and grows only if the live data fills the buffer.</summary>
    private void MakeRoom(AssetState state)
    {
        if (state.HasReadings)
        {
            var w = Watermark(state);
            var cutoff = w;

            // Every window emitted from now on ends after W, so a time look-back of L never reaches before W − L …
            if (_maxTimeLookbackMs > 0)
            {
                var timeCutoff = w < long.MinValue + _maxTimeLookbackMs ? long.MinValue : w - _maxTimeLookbackMs;
                cutoff = Math.Min(cutoff, timeCutoff);
            }

            // … and a count look-back of N never needs more than the N most recent final ticks.
            if (_maxCountLookback > 0)
            {
                cutoff = Math.Min(cutoff, NthFinalTickBack(state, w, _maxCountLookback));
            }

            // Readings not yet added to the sliding windows stay until the next close adds them: which readings pass
            // through a window must not depend on when the buffer happened to fill (vectors stay bit-identical
            // whatever the arrival order).
            state.Head = Math.Min(LowerBound(state, state.Head, state.Count, cutoff), state.AddedUpTo);
        }

        var live = state.Count - state.Head;
        if (state.Head > 0)
        {
            Array.Copy(state.Buffer, state.Head, state.Buffer, 0, live);
            if (_kind == WindowKind.Count)
            {
                state.FinalCursor -= state.Head;
            }

            state.AddedUpTo -= state.Head;

            state.Count = live;
            state.Head = 0;
        }

        if (live == state.Buffer.Length)
        {
            var grown = new Reading[state.Buffer.Length * 2];
            Array.Copy(state.Buffer, grown, live);
            state.Buffer = grown;
        }
    }

    /// <summary>Timestamp of the n-th most recent distinct timestamp below <paramref name="w"/>, or long.MinValue if there are fewer.</summary>
    private static long NthFinalTickBack(AssetState state, long w, int n)
    {
        var i = LowerBound(state, state.Head, state.Count, w) - 1;
        var ticks = 0;
        while (i >= state.Head)
        {
            var ts = state.Buffer[i].Timestamp;
            ticks++;
            if (ticks == n)
            {
                return ts;
            }

            while (i >= state.Head && state.Buffer[i].Timestamp == ts)
            {
                i--;
            }
        }

        return long.MinValue;
    }

    /// <summary>First index in [from, to) whose timestamp is ≥ <paramref name="timestamp"/>.</summary>
    private static int LowerBound(AssetState state, int from, int to, long timestamp)
    {
        var buffer = state.Buffer;
        var lo = from;
        var hi = to;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            if (buffer[mid].Timestamp < timestamp)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>Emits every default window that the watermark <paramref name="w"/> has closed.</summary>
    private void Advance(int slot, AssetState state, long w)
    {
        if (_kind == WindowKind.Count)
        {
            var buffer = state.Buffer;
            while (state.FinalCursor < state.Count && buffer[state.FinalCursor].Timestamp < w)
            {
                // Everything at this timestamp is present: a reading for it would now be late.
                var ts = buffer[state.FinalCursor].Timestamp;
                var next = state.FinalCursor + 1;
                while (next < state.Count && buffer[next].Timestamp == ts)
                {
                    next++;
                }

                state.FinalCursor = next;
                state.TickCount++;
                if (state.TickCount >= _size && (state.TickCount - _size) % _hop == 0)
                {
                    Emit(slot, state, long.MinValue, ts + 1);
                }
            }

            return;
        }

        while (true)
        {
            // The next window worth closing is the first (from NextWindow on) that holds a reading; jumping there
            // skips the empty windows of a gap in O(1) instead of walking them.
            var from = state.HasNextWindow ? state.NextWindow * _hopMs : long.MinValue;
            var index = LowerBound(state, state.Head, state.Count, from);
            if (index >= state.Count)
            {
                return;
            }

            // Only an emitted window moves NextWindow: an accepted reading may still be older than everything
            // buffered (it is ≥ W, not ≥ the first reading), and must find its window open.
            var first = FloorDiv(state.Buffer[index].Timestamp - _lengthMs, _hopMs) + 1;
            var window = state.HasNextWindow ? Math.Max(state.NextWindow, first) : first;
            var start = window * _hopMs;
            var end = start + _lengthMs;
            if (end > w)
            {
                return;
            }

            Emit(slot, state, start, end);
            state.NextWindow = window + 1;
            state.HasNextWindow = true;
        }
    }

    /// <summary>
    /// Closes the default window ending at <paramref name="end"/> (exclusive): the readings up to it enter every
    /// group's sliding window, the readings before each group's start leave it, and every feature is read from the
    /// windows' running statistics (<see cref="SlidingSeries"/>) before the handler is called.
    /// </summary>
    private void Emit(int slot, AssetState state, long start, long end)
    {
        var buffer = state.Buffer;
        var added = state.AddedUpTo;
        while (added < state.Count && buffer[added].Timestamp < end)
        {
            var reading = buffer[added++];
            foreach (var window in state.Windows)
            {
                window.Add(reading.Timestamp, reading.Sensor, reading.Value);
            }
        }

        state.AddedUpTo = added;
        var readingCount = 0;
        for (var g = 0; g < _groups.Length; g++)
        {
            var group = _groups[g];
            var window = state.Windows[g];
            if (group.Kind == WindowKind.Time)
            {
                window.RemoveBefore(end < long.MinValue + group.Length ? long.MinValue : end - group.Length);
            }
            else
            {
                window.RemoveBefore(window.FirstOfLastTicks);
            }

            if (g == 0)
            {
                readingCount = window.Readings;
                if (_kind == WindowKind.Count)
                {
                    start = window.FirstOfLastTicks;
                }
            }

            foreach (var f in group.Features)
            {
                var series = window.Series[_featureSensor[f]];
                double result;
                if (_featureLearnsBaseline[f])
                {
                    if (!state.BaselineSet[f] && series.Count > 0)
                    {
                        state.Baseline[f] = FeatureMath.Mean(series.Values);
                        state.BaselineSet[f] = true;
                    }

                    result = series.Count == 0 ? double.NaN : series.Last - state.Baseline[f];
                }
                else
                {
                    result = _featureFunction[f] switch
                    {
                        FeatureFunction.Mean => series.Mean(),
                        FeatureFunction.Std => series.Std(),
                        FeatureFunction.Min => series.Min,
                        FeatureFunction.Max => series.Max,
                        FeatureFunction.Rms => series.Rms(),
                        FeatureFunction.PeakToPeak => series.PeakToPeak(),
                        FeatureFunction.CrestFactor => series.CrestFactor(),
                        FeatureFunction.Slope => series.Slope(),
                        FeatureFunction.Last => series.Last,
                        FeatureFunction.DeltaFromBaseline => series.Count == 0 ? double.NaN : series.Last - _featureFixedBaseline[f],

                        // Skewness, kurtosis, EWMA: a pass over the window's values as it closes.
                        var function => FeatureMath.Compute(function, series.Values, series.Times, _featureAlpha[f], _featureFixedBaseline[f]),
                    };
                }

                _exactValues[f] = result;
                _values[f] = (float)result;
            }
        }

        _vectorsEmitted++;
        _telemetry.Vector();
        _emitting = true;
        try
        {
            _handler(new FeatureVector(state.AssetId, slot, start, end, readingCount, _values, _exactValues));
        }
        finally
        {
            _emitting = false;
        }
    }

    private readonly record struct Reading(long Timestamp, int Sensor, double Value)
    {
        public int CompareTo(Reading other)
        {
            if (Timestamp != other.Timestamp)
            {
                return Timestamp < other.Timestamp ? -1 : 1;
            }

            if (Sensor != other.Sensor)
            {
                return Sensor < other.Sensor ? -1 : 1;
            }

            return Value.CompareTo(other.Value);
        }
    }

    private sealed record WindowGroup(WindowKind Kind, long Length, int[] Features);

    /// <summary>
    /// One asset's buffer: readings [Head, Count) of <see cref="Buffer"/>, sorted by (timestamp, sensor, value).
    /// Readings before <see cref="FinalCursor"/> are in final ticks (count windows only).
    /// </summary>
    private sealed class AssetState(string assetId, int capacity, int featureCount, WindowGroup[] groups, int sensors)
    {
        public string AssetId { get; } = assetId;

        /// <summary>One sliding window per window group (index 0: the default window), fed in buffer order.</summary>
        public GroupWindow[] Windows { get; } = Array.ConvertAll(groups, g => new GroupWindow(sensors, g.Kind == WindowKind.Count ? (int)g.Length : 0));

        /// <summary>Readings [Head, AddedUpTo) have been added to <see cref="Windows"/>.</summary>
        public int AddedUpTo { get; set; }

        public Reading[] Buffer { get; set; } = new Reading[capacity];

        public int Head { get; set; }

        public int Count { get; set; }

        public bool HasReadings { get; set; }

        public long MaxTimestamp { get; set; }

        public int FinalCursor { get; set; }

        public long TickCount { get; set; }

        public bool HasNextWindow { get; set; }

        public long NextWindow { get; set; }

        public long LateReadings { get; set; }

        public double[] Baseline { get; } = new double[featureCount];

        public bool[] BaselineSet { get; } = new bool[featureCount];

        public void Reset()
        {
            foreach (var window in Windows)
            {
                window.Clear();
            }

            AddedUpTo = 0;
            Head = 0;
            Count = 0;
            HasReadings = false;
            MaxTimestamp = 0;
            FinalCursor = 0;
            TickCount = 0;
            HasNextWindow = false;
            NextWindow = 0;
        }
    }

    /// <summary>
    /// One window group's sliding window of one asset: a <see cref="SlidingSeries"/> per sensor and, for a count
    /// look-back of N ticks, the timestamps of the last N ticks added, so its start is known in O(1).
    /// </summary>
    private sealed class GroupWindow(int sensors, int ticks)
    {
        private readonly long[] _ticks = new long[ticks];
        private int _tickStart;
        private int _tickCount;
        private long _lastTick;

        public SlidingSeries[] Series { get; } = CreateSeries(sensors);

        /// <summary>Readings of every sensor in the window.</summary>
        public int Readings { get; private set; }

        /// <summary>The first timestamp of the last N ticks added, or long.MinValue while fewer than N were.</summary>
        public long FirstOfLastTicks => _tickCount == _ticks.Length && _ticks.Length > 0 ? _ticks[_tickStart] : long.MinValue;

        public void Add(long timestamp, int sensor, double value)
        {
            Series[sensor].Add(timestamp, value);
            Readings++;
            if (_ticks.Length > 0 && (_tickCount == 0 || timestamp != _lastTick))
            {
                _lastTick = timestamp;
                if (_tickCount < _ticks.Length)
                {
                    _ticks[(_tickStart + _tickCount++) % _ticks.Length] = timestamp;
                }
                else
                {
                    _ticks[_tickStart] = timestamp;
                    _tickStart = (_tickStart + 1) % _ticks.Length;
                }
            }
        }

        public void RemoveBefore(long timestamp)
        {
            foreach (var series in Series)
            {
                Readings -= series.RemoveBefore(timestamp);
            }
        }

        public void Clear()
        {
            foreach (var series in Series)
            {
                series.Clear();
            }

            Readings = 0;
            _tickStart = 0;
            _tickCount = 0;
        }

        private static SlidingSeries[] CreateSeries(int sensors)
        {
            var series = new SlidingSeries[sensors];
            for (var s = 0; s < sensors; s++)
            {
                series[s] = new SlidingSeries();
            }

            return series;
        }
    }
}
