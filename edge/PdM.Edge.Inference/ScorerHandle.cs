namespace PdM.Edge.Inference;

/// <summary>
/// Reference count around a scorer: the slot holds one reference while the version is current (or kept for
/// rollback, or in shadow), and every batch holds one while it runs. The scorer (and its ONNX Runtime session)
/// is disposed when the last reference goes, so a hot swap never pulls a session from under a running batch.
/// </summary>
public sealed class ScorerHandle
{
    private int _references = 1;

    public ScorerHandle(OnnxScorer scorer)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        Scorer = scorer;
    }

    public OnnxScorer Scorer { get; }

    /// <summary>Takes a reference unless the handle is already released for good.</summary>
    public bool TryAcquire()
    {
        var current = Volatile.Read(ref _references);
        while (current > 0)
        {
            var seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Scorer.Dispose();
        }
    }

    /// <summary>True once the last reference is gone and the session disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref _references) <= 0;
}
