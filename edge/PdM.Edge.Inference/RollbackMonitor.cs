using System.Globalization;

namespace PdM.Edge.Inference;

/// <summary>
/// Sliding window over the last rows the current model version handled: errors (run failure, timeout, invalid
/// output), out-of-distribution rows and batch latency. <see cref="Evaluate"/> names the first threshold passed.
/// Only the slot's batcher writes to it.
/// </summary>
public sealed class RollbackMonitor
{
    private readonly InferenceOptions _options;
    private readonly byte[] _flags;
    private readonly double[] _latency;
    private int _next;
    private int _count;
    private int _errors;
    private int _ood;
    private double _latencySum;

    private const byte Error = 1;
    private const byte Ood = 2;

    public RollbackMonitor(InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _flags = new byte[options.RollbackWindowSize];
        _latency = new double[options.RollbackWindowSize];
    }

    public int Count => _count;

    public void Record(ScoreOutcome outcome, double batchMilliseconds)
    {
        var flag = outcome switch
        {
            ScoreOutcome.RunFailed or ScoreOutcome.Timeout or ScoreOutcome.InvalidOutput => Error,
            ScoreOutcome.OutOfDistribution => Ood,
            _ => (byte)0,
        };
        if (_count == _flags.Length)
        {
            Remove(_next);
        }
        else
        {
            _count++;
        }

        _flags[_next] = flag;
        _latency[_next] = batchMilliseconds;
        _errors += flag == Error ? 1 : 0;
        _ood += flag == Ood ? 1 : 0;
        _latencySum += batchMilliseconds;
        _next = (_next + 1) % _flags.Length;
    }

    /// <summary>The reason to roll back, or null while the version behaves (or has not seen enough rows).</summary>
    public string? Evaluate()
    {
        if (_count < _options.RollbackMinSamples || _count == 0)
        {
            return null;
        }

        var errorRate = (double)_errors / _count;
        if (errorRate > _options.RollbackMaxErrorRate)
        {
            return Describe("error_rate", errorRate, _options.RollbackMaxErrorRate);
        }

        var oodRate = (double)_ood / _count;
        if (oodRate > _options.RollbackMaxOodRate)
        {
            return Describe("ood_rate", oodRate, _options.RollbackMaxOodRate);
        }

        var meanLatency = _latencySum / _count;
        return meanLatency > _options.RollbackMaxMeanLatencyMs
            ? Describe("mean_latency_ms", meanLatency, _options.RollbackMaxMeanLatencyMs)
            : null;
    }

    public void Reset()
    {
        _next = 0;
        _count = 0;
        _errors = 0;
        _ood = 0;
        _latencySum = 0;
    }

    private void Remove(int index)
    {
        _errors -= _flags[index] == Error ? 1 : 0;
        _ood -= _flags[index] == Ood ? 1 : 0;
        _latencySum -= _latency[index];
    }

    private string Describe(string what, double value, double limit) =>
        string.Create(CultureInfo.InvariantCulture, $"{what} {value:0.###} > {limit:0.###} over the last {_count} rows");
}
