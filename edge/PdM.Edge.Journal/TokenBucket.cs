namespace PdM.Edge.Journal;

/// <summary>
/// Token bucket on <see cref="TimeProvider"/> timestamps: tokens accrue at <see cref="RatePerSecond"/> up to
/// <see cref="Burst"/>. The journal paces backlog entries with one, the gateway's uplink its bytes. A taker may take
/// more than is there (a message larger than what is left): the bucket then holds a debt, paid back before anything
/// else may go, so the long-run rate still holds. Not thread-safe: each bucket has one owner.
/// </summary>
public sealed class TokenBucket
{
    private readonly TimeProvider _time;
    private double _tokens;
    private long _last;

    public TokenBucket(TimeProvider time, double ratePerSecond, double burst)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        _time = time;
        RatePerSecond = ratePerSecond;
        Burst = burst;
        _tokens = burst;
        _last = time.GetTimestamp();
    }

    public double RatePerSecond { get; }

    public double Burst { get; }

    /// <summary>The tokens there now (at most <see cref="Burst"/>; negative while a debt is paid back).</summary>
    public double Available()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_last, now);
        _last = now;
        _tokens = Math.Min(Burst, _tokens + (elapsed.TotalSeconds * RatePerSecond));
        return _tokens;
    }

    public void Take(double count) => _tokens -= count;

    /// <summary>How long until <paramref name="tokens"/> are there (at most <see cref="Burst"/> are ever waited for); zero when they are.</summary>
    public TimeSpan TimeUntil(double tokens)
    {
        var missing = Math.Min(tokens, Burst) - Available();
        return missing <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(missing / RatePerSecond);
    }
}
