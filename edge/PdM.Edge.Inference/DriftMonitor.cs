using PdM.ModelPackage;

namespace PdM.Edge.Inference;

/// <summary>
/// Drift of one deployed version: the last <see cref="InferenceOptions.DriftWindowSize"/> rows it was asked to score,
/// binned per feature on the package's training bins, and the population stability index of each feature against
/// the training proportions. Only the slot's batcher writes (<see cref="Record"/> per row, <see cref="Evaluate"/> per
/// batch; neither allocates); metric collection reads <see cref="Psi"/> from another thread (a torn read of one double
/// cannot happen on the 64-bit runtimes we ship, and a value some rows old is fine for a gauge).
/// </summary>
public sealed class DriftMonitor
{
    /// <summary>
    /// Rows recorded between two PSI computations. PSI over a window of <see cref="InferenceOptions.DriftWindowSize"/>
    /// rows (1,000 by default) moves little in 16 of them, and computing it (a logarithm per bin per feature) after a
    /// lone row, a batch of one at low load, cost about as much as scoring that row.
    /// </summary>
    public const int EvaluateEveryRows = 16;

    // Per feature, a stride of interior edges padded with +∞ (no finite value is at or above it) and of bin counts, in
    // flat arrays rather than an array per feature: with the binning itself, that was the scoring stage's largest cost
    // after ONNX Runtime.
    private readonly double[] _edges;
    private readonly int _stride;
    private readonly double[][] _expected;
    private readonly int[] _counts;
    private readonly int[] _window; // bin per (row, feature), −1 for a non-finite value
    private readonly double[] _psi;
    private readonly int _features;
    private readonly int _capacity;
    private readonly int _minRows;
    private readonly double _threshold;
    private readonly double _clearBelow;
    private int _next;
    private int _count;
    private int _sinceEvaluated;
    private bool _raised;

    public DriftMonitor(TrainingDistribution distribution, InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(distribution);
        ArgumentNullException.ThrowIfNull(options);
        var features = distribution.Features;
        _features = features.Count;
        _stride = features.Count == 0 ? 0 : features.Max(f => f.Proportions.Count);
        _edges = new double[_features * _stride];
        _edges.AsSpan().Fill(double.PositiveInfinity);
        _counts = new int[_features * _stride];
        for (var f = 0; f < _features; f++)
        {
            features[f].Edges.ToArray().CopyTo(_edges, f * _stride);
        }

        _expected = [.. features.Select(f => f.Proportions.ToArray())];
        FeatureNames = [.. features.Select(f => f.Name)];
        _capacity = options.DriftWindowSize;
        _minRows = options.DriftMinRows;
        _threshold = options.DriftPsiThreshold;
        _clearBelow = options.DriftPsiClearBelow;
        _window = new int[_capacity * _features];
        _psi = new double[_features];
    }

    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Rows in the window.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Whether the window holds enough rows for <see cref="Psi"/> to mean something.</summary>
    public bool Ready => Count >= _minRows;

    /// <summary>The PSI of feature <paramref name="feature"/> as of the last computation (at most <see cref="EvaluateEveryRows"/> rows old).</summary>
    public double Psi(int feature) => Volatile.Read(ref _psi[feature]);

    /// <summary>Adds one scored row (in feature-spec order), evicting the oldest when the window is full.</summary>
    public void Record(ReadOnlySpan<float> row)
    {
        if (row.Length != _features)
        {
            return;
        }

        var slot = _window.AsSpan(_next * _features, _features);
        var full = _count == _capacity;
        for (var f = 0; f < _features; f++)
        {
            var at = f * _stride;
            if (full && slot[f] >= 0)
            {
                _counts[at + slot[f]]--;
            }

            var bin = FeatureDistribution.BinOf(_edges.AsSpan(at, _stride), row[f]);
            slot[f] = bin;
            if (bin >= 0)
            {
                _counts[at + bin]++;
            }
        }

        _next = (_next + 1) % _capacity;
        _sinceEvaluated++;
        if (!full)
        {
            Volatile.Write(ref _count, _count + 1);
        }
    }

    /// <summary>
    /// Recomputes every feature's PSI once <see cref="EvaluateEveryRows"/> rows have come since the last time; returns
    /// the index of the feature with the highest PSI when the window has just crossed the threshold (once per crossing:
    /// it re-arms when every feature is below the clear level), else −1.
    /// </summary>
    public int Evaluate()
    {
        if (_count < _minRows || _sinceEvaluated < EvaluateEveryRows)
        {
            return -1;
        }

        _sinceEvaluated = 0;
        var worst = 0;
        for (var f = 0; f < _features; f++)
        {
            Volatile.Write(ref _psi[f], TrainingDistribution.Psi(_expected[f], _counts.AsSpan(f * _stride, _expected[f].Length)));
            if (_psi[f] > _psi[worst])
            {
                worst = f;
            }
        }

        var max = _features == 0 ? 0 : _psi[worst];
        if (_raised)
        {
            _raised = max >= _clearBelow;
            return -1;
        }

        if (max > _threshold)
        {
            _raised = true;
            return worst;
        }

        return -1;
    }
}
