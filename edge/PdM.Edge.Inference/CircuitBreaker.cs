namespace PdM.Edge.Inference;

public enum BreakerState
{
    Closed,
    Open,
    HalfOpen,
}

/// <summary>
/// Opens after N consecutive failed or timed-out batches, lets traffic through again (half-open) once the
/// cool-down has passed on the <see cref="TimeProvider"/>, closes on the first success and re-opens on the first failure.
/// </summary>
public sealed class CircuitBreaker(int failureThreshold, TimeSpan cooldown, TimeProvider time)
{
    private readonly Lock _gate = new();
    private BreakerState _state = BreakerState.Closed;
    private int _consecutiveFailures;
    private DateTimeOffset _openedAt;

    public BreakerState State
    {
        get
        {
            lock (_gate)
            {
                Advance();
                return _state;
            }
        }
    }

    /// <summary>False while open; a half-open breaker lets rows through to find out whether the model recovered.</summary>
    public bool AllowsRequest()
    {
        lock (_gate)
        {
            Advance();
            return _state != BreakerState.Open;
        }
    }

    public void RecordSuccess()
    {
        lock (_gate)
        {
            _consecutiveFailures = 0;
            _state = BreakerState.Closed;
        }
    }

    public void RecordFailure()
    {
        lock (_gate)
        {
            Advance();
            _consecutiveFailures++;
            if (_state == BreakerState.HalfOpen || _consecutiveFailures >= failureThreshold)
            {
                _state = BreakerState.Open;
                _openedAt = time.GetUtcNow();
            }
        }
    }

    private void Advance()
    {
        if (_state == BreakerState.Open && time.GetUtcNow() - _openedAt >= cooldown)
        {
            _state = BreakerState.HalfOpen;
        }
    }
}
