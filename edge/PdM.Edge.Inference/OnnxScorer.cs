using Microsoft.ML.OnnxRuntime;
using PdM.Contracts.Decisions;
using PdM.ModelPackage;

namespace PdM.Edge.Inference;

/// <summary>Which model version produced a score: copied into every model decision's provenance.</summary>
public sealed record ModelIdentity(string Name, string Version, string Digest)
{
    public override string ToString() => Name + "@" + Version;
}

public enum ScoreOutcome : byte
{
    Ok,
    OutOfDistribution,
    InvalidOutput,
    RunFailed,
    Timeout,
    FeatureMismatch,

    /// <summary>The slot had no model when the batch ran (e.g. removed between queueing and scoring).</summary>
    NoModel,
}

/// <summary>One row's score. NaN / -1 mark what the model does not produce.</summary>
public readonly record struct ModelScore(
    ScoreOutcome Outcome,
    HealthState HealthState,
    double FailureProbability,
    double Rul,
    int FailureModeIndex)
{
    public static ModelScore Of(ScoreOutcome outcome) => new(outcome, HealthState.Healthy, double.NaN, double.NaN, -1);
}

/// <summary>
/// One loaded model version on ONNX Runtime. Rows are copied into a preallocated input buffer and outputs land
/// in preallocated buffers, both bound once per batch size as <see cref="OrtValue"/>s: after the first batch of
/// each size, scoring allocates nothing. Not re-entrant: one batch at a time (the slot's batcher is the only caller;
/// the lock makes a mistake slow instead of wrong).
/// </summary>
public sealed class OnnxScorer : IDisposable
{
    private readonly Lock _gate = new();
    private readonly LoadedModelPackage _package;
    private readonly float[] _input;
    private readonly OutputBinding[] _outputs;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly Binding?[] _bindings;
    private readonly float[] _lower;
    private readonly float[] _upper;
    private readonly DecisionThresholds _thresholds;
    private readonly string[] _featureNames;
    private bool _disposed;

    public OnnxScorer(LoadedModelPackage package, string provider, int maxBatchSize, double oodMargin)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        _package = package;
        Provider = provider;
        MaxBatchSize = maxBatchSize;
        var manifest = package.Manifest;
        Identity = new ModelIdentity(manifest.Name, manifest.Version, package.Digest);
        FeatureCount = package.FeatureCount;
        _thresholds = manifest.Thresholds;
        DefaultFailureMode = manifest.FailureMode;
        _input = new float[maxBatchSize * FeatureCount];
        _inputNames = [manifest.Input.Name];
        _outputNames = new string[manifest.Outputs.Count];
        _outputs = new OutputBinding[manifest.Outputs.Count];
        for (var i = 0; i < _outputs.Length; i++)
        {
            var spec = manifest.Outputs[i];
            var columns = spec.Meaning == OutputMeaning.FailureModeClass ? spec.Classes!.Count : 1;
            var rank = package.Session.OutputMetadata[spec.Name].Dimensions.Length;
            _outputNames[i] = spec.Name;
            _outputs[i] = new OutputBinding(spec, columns, rank, maxBatchSize);
            if (spec.Meaning is OutputMeaning.RulCycles or OutputMeaning.RulHours)
            {
                RulUnit = spec.Meaning == OutputMeaning.RulCycles ? Contracts.Decisions.RulUnit.Cycles : Contracts.Decisions.RulUnit.Hours;
            }
        }

        _bindings = new Binding?[maxBatchSize + 1];
        _featureNames = new string[FeatureCount];
        _lower = new float[FeatureCount];
        _upper = new float[FeatureCount];
        for (var j = 0; j < FeatureCount; j++)
        {
            _featureNames[j] = package.FeatureSpec.Features[j].Name;
            var stats = manifest.FeatureStatistics[j];
            var range = stats.Max - stats.Min;
            // A feature constant in training has no range to scale by: widen by the margin of its magnitude instead.
            var widen = oodMargin * (range > 0 ? range : Math.Max(1.0, Math.Abs(stats.Min)));
            _lower[j] = (float)(stats.Min - widen);
            _upper[j] = (float)(stats.Max + widen);
        }
    }

    public ModelIdentity Identity { get; }

    public string Provider { get; }

    public int FeatureCount { get; }

    public int MaxBatchSize { get; }

    public LoadedModelPackage Package => _package;

    public IReadOnlyList<string> FeatureNames => _featureNames;

    public RulUnit? RulUnit { get; }

    /// <summary>True when the names are exactly this model's features in order (reference-equal strings compare in O(1)).</summary>
    public bool MatchesFeatures(IReadOnlyList<string> names, int valueCount)
    {
        if (names.Count != FeatureCount || valueCount != FeatureCount)
        {
            return false;
        }

        for (var j = 0; j < FeatureCount; j++)
        {
            if (!string.Equals(names[j], _featureNames[j], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Every feature finite and within [min − margin·range, max + margin·range] of the training statistics.</summary>
    public bool IsInDistribution(ReadOnlySpan<float> row)
    {
        for (var j = 0; j < row.Length; j++)
        {
            var x = row[j];
            if (!(x >= _lower[j] && x <= _upper[j]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The class name of a failure-mode index from <see cref="ModelScore.FailureModeIndex"/>.</summary>
    public string? FailureModeName(int index)
    {
        foreach (var output in _outputs)
        {
            if (output.Spec.Meaning == OutputMeaning.FailureModeClass && index >= 0 && index < output.Spec.Classes!.Count)
            {
                return output.Spec.Classes[index];
            }
        }

        return null;
    }

    /// <summary>What the manifest says the model predicts when no class output names a mode (<c>failureMode</c>).</summary>
    public string? DefaultFailureMode { get; }

    /// <summary>
    /// Scores <paramref name="rowCount"/> rows laid out contiguously in <paramref name="rows"/>. Returns false when
    /// ONNX Runtime failed (every result is then <see cref="ScoreOutcome.RunFailed"/> and <paramref name="error"/> says why);
    /// otherwise each result is <see cref="ScoreOutcome.Ok"/> or <see cref="ScoreOutcome.InvalidOutput"/>.
    /// </summary>
    public bool ScoreBatch(ReadOnlySpan<float> rows, int rowCount, Span<ModelScore> results, RunOptions runOptions, out string? error)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rowCount, MaxBatchSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowCount, 1);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            rows[..(rowCount * FeatureCount)].CopyTo(_input);
            var binding = _bindings[rowCount] ??= new Binding(this, rowCount);
            try
            {
                _package.Session.Run(runOptions, _inputNames, binding.Inputs, _outputNames, binding.Outputs);
            }
            catch (OnnxRuntimeException ex)
            {
                results[..rowCount].Fill(ModelScore.Of(ScoreOutcome.RunFailed));
                error = ex.Message;
                return false;
            }

            for (var r = 0; r < rowCount; r++)
            {
                results[r] = Interpret(r);
            }

            error = null;
            return true;
        }
    }

    private ModelScore Interpret(int row)
    {
        var probability = double.NaN;
        var rul = double.NaN;
        var mode = -1;
        foreach (var output in _outputs)
        {
            switch (output.Spec.Meaning)
            {
                case OutputMeaning.FailureProbability:
                    probability = output.Floats![row];
                    if (!(probability >= 0 && probability <= 1))
                    {
                        return ModelScore.Of(ScoreOutcome.InvalidOutput);
                    }

                    break;
                case OutputMeaning.RulCycles or OutputMeaning.RulHours:
                    rul = output.Floats![row];
                    if (!double.IsFinite(rul) || rul < 0)
                    {
                        return ModelScore.Of(ScoreOutcome.InvalidOutput);
                    }

                    break;
                case OutputMeaning.FailureModeClass:
                    var span = output.Floats.AsSpan(row * output.Columns, output.Columns);
                    var normal = -1d;
                    var best = -1d;
                    for (var c = 0; c < span.Length; c++)
                    {
                        var p = span[c];
                        if (!(p >= 0 && p <= 1))
                        {
                            return ModelScore.Of(ScoreOutcome.InvalidOutput);
                        }

                        if (output.Spec.Classes![c] == output.Spec.NormalClass)
                        {
                            normal = p;
                        }
                        else if (p > best)
                        {
                            best = p;
                            mode = c;
                        }
                    }

                    var failure = Math.Clamp(1 - normal, 0, 1);
                    probability = double.IsNaN(probability) ? failure : Math.Max(probability, failure);
                    break;
                default:
                    break;
            }
        }

        var state = HealthState.Healthy;
        if (!double.IsNaN(probability))
        {
            state = Max(state, FromProbability(probability));
        }

        if (!double.IsNaN(rul))
        {
            state = Max(state, FromRul(rul));
        }

        return new ModelScore(ScoreOutcome.Ok, state, probability, rul, state == HealthState.Healthy ? -1 : mode);
    }

    private HealthState FromProbability(double p) =>
        p >= (_thresholds.FailureProbabilityDanger ?? double.PositiveInfinity) ? HealthState.Danger
        : p >= (_thresholds.FailureProbabilityAlert ?? double.PositiveInfinity) ? HealthState.Alert
        : p >= (_thresholds.FailureProbabilityWatch ?? double.PositiveInfinity) ? HealthState.Watch
        : HealthState.Healthy;

    private HealthState FromRul(double rul) =>
        rul <= (_thresholds.RulDanger ?? double.NegativeInfinity) ? HealthState.Danger
        : rul <= (_thresholds.RulAlert ?? double.NegativeInfinity) ? HealthState.Alert
        : rul <= (_thresholds.RulWatch ?? double.NegativeInfinity) ? HealthState.Watch
        : HealthState.Healthy;

    private static HealthState Max(HealthState a, HealthState b) => a >= b ? a : b;

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var binding in _bindings)
            {
                binding?.Dispose();
            }

            _package.Dispose();
        }
    }

    private sealed class OutputBinding
    {
        public OutputBinding(ModelOutputSpec spec, int columns, int rank, int maxBatchSize)
        {
            Spec = spec;
            Columns = columns;
            Rank = rank;
            if (spec.ElementType == TensorElementKind.Int64)
            {
                Longs = new long[maxBatchSize * columns];
            }
            else
            {
                Floats = new float[maxBatchSize * columns];
            }
        }

        public ModelOutputSpec Spec { get; }

        public int Columns { get; }

        public int Rank { get; }

        public float[]? Floats { get; }

        public long[]? Longs { get; }

        public OrtValue Bind(int rows)
        {
            long[] shape = Rank == 1 ? [rows] : [rows, Columns];
            var length = rows * Columns;
            return Floats is not null
                ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Floats.AsMemory(0, length), shape)
                : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Longs.AsMemory(0, length), shape);
        }
    }

    /// <summary>The input and output tensors of one batch size, over the scorer's buffers (pinned for the scorer's life).</summary>
    private sealed class Binding : IDisposable
    {
        public Binding(OnnxScorer scorer, int rows)
        {
            Inputs = [OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, scorer._input.AsMemory(0, rows * scorer.FeatureCount), [rows, scorer.FeatureCount])];
            Outputs = new OrtValue[scorer._outputs.Length];
            for (var i = 0; i < Outputs.Length; i++)
            {
                Outputs[i] = scorer._outputs[i].Bind(rows);
            }
        }

        public OrtValue[] Inputs { get; }

        public OrtValue[] Outputs { get; }

        public void Dispose()
        {
            foreach (var value in Inputs)
            {
                value.Dispose();
            }

            foreach (var value in Outputs)
            {
                value.Dispose();
            }
        }
    }
}
