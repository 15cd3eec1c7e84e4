namespace PdM.Edge.Journal;

/// <summary>Token bucket on <see cref="TimeProvider"/> timestamps: how many backlog entries may go now.</summary>
internal sealed class ReplayThrottle(TimeProvider time, double ratePerSecond, int burst)
{
    private double _tokens = burst;
    private long _last = time.GetTimestamp();

    public int Available()
    {
        var now = time.GetTimestamp();
        var elapsed = time.GetElapsedTime(_last, now);
        _last = now;
        _tokens = Math.Min(burst, _tokens + (elapsed.TotalSeconds * ratePerSecond));
        return (int)Math.Floor(_tokens);
    }

    public void Take(int count) => _tokens -= count;
}
