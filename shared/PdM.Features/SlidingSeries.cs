namespace PdM.Features;

/// <summary>
/// One sensor's readings in one sliding window, first in first out, with the statistics a window closes with kept up
/// to date as readings enter and leave: O(1) amortised per reading for count, mean, variance, min, max (monotonic
/// queues), RMS, crest factor, peak-to-peak and slope, instead of a pass over the window at every close.
/// </summary>
/// <remarks>
/// <para><b>Numerical stability.</b> The moments are sums of deviations from an anchor value K and anchor time T
/// (Σ(x − K), Σ(x − K)², Σ(t − T)(x − K)), Neumaier-compensated, so adding and removing does not cancel
/// catastrophically the way Σx and Σx² do on a large offset; the time sums Σ(t − T) and Σ(t − T)² are exact integers.
/// The anchor drifts away from the window's mean as values come and go, so after as many updates as the window holds
/// (plus a constant) the sums are rebuilt from the window's contents with K = the current mean and T = the middle
/// timestamp: an O(n) pass every ≥ n updates, O(1) amortised, and the rounding a rebuild leaves behind never grows.
/// Measured against the recomputed value in <c>IncrementalWindowTests</c>.</para>
/// <para><b>Exact cases.</b> A constant window (min == max, known exactly from the queues) gives exactly the value as
/// mean, RMS magnitude and min/max, and exactly 0 as std, peak-to-peak and slope, like <see cref="FeatureMath"/>.</para>
/// <para>Skewness, kurtosis and EWMA are not kept incrementally: they are computed over <see cref="Values"/> when the
/// window closes, exactly as <see cref="FeatureMath"/> defines them.</para>
/// </remarks>
internal sealed class SlidingSeries
{
    private const int InitialCapacity = 32;

    private double[] _values = new double[InitialCapacity];
    private long[] _times = new long[InitialCapacity];
    private int _head;
    private int _tail;

    // Sequence number of _values[0]: queue entries are sequence numbers, so compacting the arrays moves no queue entry.
    private long _offset;
    private long[] _maxQueue = new long[InitialCapacity];
    private int _maxHead;
    private int _maxTail;
    private long[] _minQueue = new long[InitialCapacity];
    private int _minHead;
    private int _minTail;

    private double _anchor;
    private long _anchorTime;
    private double _sum;
    private double _sumCompensation;
    private double _squares;
    private double _squaresCompensation;
    private double _cross;
    private double _crossCompensation;
    private long _timeSum;
    private Int128 _timeSquares;
    private int _updates;

    public int Count => _tail - _head;

    /// <summary>The window's values in event-time order.</summary>
    public ReadOnlySpan<double> Values => _values.AsSpan(_head, Count);

    /// <summary>Their timestamps.</summary>
    public ReadOnlySpan<long> Times => _times.AsSpan(_head, Count);

    public double Last => Count == 0 ? double.NaN : _values[_tail - 1];

    public double Min => Count == 0 ? double.NaN : ValueAt(_minQueue[_minHead]);

    public double Max => Count == 0 ? double.NaN : ValueAt(_maxQueue[_maxHead]);

    private bool IsConstant => ValueAt(_minQueue[_minHead]) == ValueAt(_maxQueue[_maxHead]);

    /// <summary>Appends a reading; readings arrive in event-time order (the engine's buffer order).</summary>
    public void Add(long timestamp, double value)
    {
        if (Count == 0)
        {
            _anchor = value;
            _anchorTime = timestamp;
        }

        if (_tail == _values.Length)
        {
            MakeRoom();
        }

        _values[_tail] = value;
        _times[_tail] = timestamp;
        var sequence = _offset + _tail;
        _tail++;

        // Monotonic queues: a value that can no longer be the window's max (min) before it leaves is dropped now.
        while (_maxTail > _maxHead && ValueAt(_maxQueue[_maxTail - 1]) <= value)
        {
            _maxTail--;
        }

        while (_minTail > _minHead && ValueAt(_minQueue[_minTail - 1]) >= value)
        {
            _minTail--;
        }

        _maxQueue[_maxTail++] = sequence;
        _minQueue[_minTail++] = sequence;
        Accumulate(timestamp, value, 1);
    }

    /// <summary>Removes every reading older than <paramref name="timestamp"/>; returns how many left.</summary>
    public int RemoveBefore(long timestamp)
    {
        var removed = 0;
        while (_head < _tail && _times[_head] < timestamp)
        {
            var sequence = _offset + _head;
            Accumulate(_times[_head], _values[_head], -1);
            if (_maxQueue[_maxHead] == sequence)
            {
                _maxHead++;
            }

            if (_minQueue[_minHead] == sequence)
            {
                _minHead++;
            }

            _head++;
            removed++;
        }

        if (Count == 0)
        {
            Clear();
        }
        else if (_updates > (2 * Count) + 16)
        {
            Rebuild();
        }

        return removed;
    }

    public void Clear()
    {
        _offset += _tail;
        _head = _tail = 0;
        _maxHead = _maxTail = _minHead = _minTail = 0;
        _sum = _sumCompensation = _squares = _squaresCompensation = _cross = _crossCompensation = 0;
        _timeSum = 0;
        _timeSquares = 0;
        _updates = 0;
    }

    public double Mean()
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        return IsConstant ? Min : _anchor + ((_sum + _sumCompensation) / Count);
    }

    /// <summary>Population standard deviation.</summary>
    public double Std()
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        return IsConstant ? 0 : Math.Sqrt(SecondMoment());
    }

    public double Rms()
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        return IsConstant ? Math.Abs(Min) : Math.Sqrt(SumOfSquares() / Count);
    }

    public double PeakToPeak() => Count == 0 ? double.NaN : Max - Min;

    /// <summary>max|x| / RMS; 1 when RMS is 0 (and for any constant window).</summary>
    public double CrestFactor()
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        if (IsConstant)
        {
            return 1;
        }

        var rms = Math.Sqrt(SumOfSquares() / Count);
        return rms == 0 ? 1 : Math.Max(Math.Abs(Min), Math.Abs(Max)) / rms;
    }

    /// <summary>Least-squares slope of value against time in seconds; 0 when all readings share one timestamp.</summary>
    public double Slope()
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        // n·Σt² − (Σt)² is exact in integers: zero exactly when every reading has the same timestamp.
        var n = Count;
        var spread = (n * _timeSquares) - ((Int128)_timeSum * _timeSum);
        if (spread == 0 || IsConstant)
        {
            return 0;
        }

        var covariance = (n * (_cross + _crossCompensation)) - (_timeSum * (_sum + _sumCompensation));
        return 1000 * covariance / (double)spread;
    }

    private double ValueAt(long sequence) => _values[sequence - _offset];

    /// <summary>Σ(x − x̄)² / n from the anchored sums.</summary>
    private double SecondMoment()
    {
        var s1 = _sum + _sumCompensation;
        var m2 = ((_squares + _squaresCompensation) - (s1 * s1 / Count)) / Count;
        return m2 < 0 ? 0 : m2;
    }

    /// <summary>Σx² = Σ(x − K)² + 2K·Σ(x − K) + n·K²: no cancellation while K is near the mean.</summary>
    private double SumOfSquares()
    {
        var total = (_squares + _squaresCompensation) + (2 * _anchor * (_sum + _sumCompensation)) + (Count * _anchor * _anchor);
        return total < 0 ? 0 : total;
    }

    private void Accumulate(long timestamp, double value, int sign)
    {
        var d = value - _anchor;
        var dt = timestamp - _anchorTime;
        Neumaier(ref _sum, ref _sumCompensation, sign * d);
        Neumaier(ref _squares, ref _squaresCompensation, sign * (d * d));
        Neumaier(ref _cross, ref _crossCompensation, sign * (dt * d));
        _timeSum += sign * dt;
        _timeSquares += sign * ((Int128)dt * dt);
        _updates++;
    }

    /// <summary>Re-anchors at the current mean and middle timestamp and sums the window afresh.</summary>
    private void Rebuild()
    {
        var values = Values;
        double sum = 0, compensation = 0;
        foreach (var v in values)
        {
            Neumaier(ref sum, ref compensation, v);
        }

        _anchor = (sum + compensation) / values.Length;
        _anchorTime = _times[_head + (values.Length / 2)];
        _sum = _sumCompensation = _squares = _squaresCompensation = _cross = _crossCompensation = 0;
        _timeSum = 0;
        _timeSquares = 0;
        for (var i = _head; i < _tail; i++)
        {
            Accumulate(_times[i], _values[i], 1);
        }

        _updates = 0;
    }

    /// <summary>Moves the live readings to the front, growing the arrays (and the queues with them) only when full.</summary>
    private void MakeRoom()
    {
        var live = Count;
        if (_head > 0)
        {
            Array.Copy(_values, _head, _values, 0, live);
            Array.Copy(_times, _head, _times, 0, live);
            _offset += _head;
            _tail = live;
            _head = 0;
        }

        if (live == _values.Length)
        {
            Array.Resize(ref _values, live * 2);
            Array.Resize(ref _times, live * 2);
        }

        // A queue never holds more entries than the window: compact it in place, or grow it with the window.
        CompactQueue(ref _maxQueue, ref _maxHead, ref _maxTail, _values.Length);
        CompactQueue(ref _minQueue, ref _minHead, ref _minTail, _values.Length);
    }

    private static void CompactQueue(ref long[] queue, ref int head, ref int tail, int capacity)
    {
        var length = tail - head;
        if (head > 0)
        {
            Array.Copy(queue, head, queue, 0, length);
            head = 0;
            tail = length;
        }

        if (queue.Length < capacity)
        {
            Array.Resize(ref queue, capacity);
        }
    }

    private static void Neumaier(ref double sum, ref double compensation, double value)
    {
        var t = sum + value;
        compensation += Math.Abs(sum) >= Math.Abs(value) ? (sum - t) + value : (value - t) + sum;
        sum = t;
    }
}
