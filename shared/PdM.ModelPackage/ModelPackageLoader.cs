using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace PdM.ModelPackage;

/// <summary>Options for <see cref="ModelPackageLoader.Load"/>.</summary>
public sealed record ModelPackageLoadOptions
{
    public ModelPackageLimits Limits { get; init; } = new();

    /// <summary>
    /// Builds the session options (threads, execution provider). Called once per load; the loader disposes the
    /// options after the session is created. Default: CPU, one intra-op and one inter-op thread, no spinning.
    /// </summary>
    public Func<SessionOptions>? SessionOptionsFactory { get; init; }

    /// <summary>A golden-vector run still going after this is terminated and the package rejected: a package cannot stall a gateway.</summary>
    public TimeSpan GoldenVectorTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public static SessionOptions DefaultSessionOptions()
    {
        var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        return options;
    }
}

/// <summary>The outcome of a load: a validated package holding its session, or the exact reason it was refused.</summary>
public sealed record ModelPackageLoadResult(LoadedModelPackage? Package, PackageRejection? Rejection)
{
    public bool Succeeded => Package is not null;
}

/// <summary>
/// Reads, validates and opens a model package. Order: size limits → manifest → ONNX protobuf (parse, domains,
/// external data) → ONNX Runtime session → input/output match → golden vectors. Never throws for a bad package;
/// the caller logs the rejection (this library has no logging dependency).
/// </summary>
public static class ModelPackageLoader
{
    public static ModelPackageLoadResult Load(string path, ModelPackageLoadOptions? options = null)
    {
        options ??= new ModelPackageLoadOptions();
        var (files, readRejection) = ModelPackageFiles.Read(path, options.Limits);
        return files is null ? new ModelPackageLoadResult(null, readRejection) : Load(files, path, options);
    }

    public static ModelPackageLoadResult Load(ModelPackageFiles files, string source, ModelPackageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        options ??= new ModelPackageLoadOptions();
        if (files.Model.LongLength > options.Limits.MaxModelBytes)
        {
            return Fail(PackageRejectionReason.TooLarge, F($"model.onnx is {files.Model.LongLength} bytes; the limit is {options.Limits.MaxModelBytes} bytes"));
        }

        var (manifest, spec, manifestRejection) = ManifestValidator.Parse(files.Manifest);
        if (manifestRejection is not null)
        {
            return new ModelPackageLoadResult(null, manifestRejection);
        }

        if (OnnxModelInspector.Inspect(files.Model) is { } onnxRejection)
        {
            return new ModelPackageLoadResult(null, onnxRejection);
        }

        InferenceSession session;
        try
        {
            using var sessionOptions = (options.SessionOptionsFactory ?? ModelPackageLoadOptions.DefaultSessionOptions)();
            session = new InferenceSession(files.Model, sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            return Fail(PackageRejectionReason.RuntimeLoadFailed, "ONNX Runtime cannot load the model: " + ex.Message);
        }

        var rejection = CheckSignature(session, manifest!) ?? RunGoldenVectors(session, manifest!, options.GoldenVectorTimeout);
        if (rejection is not null)
        {
            session.Dispose();
            return new ModelPackageLoadResult(null, rejection);
        }

        var digest = PackageDigest.Compute(files.Model, files.Manifest);
        return new ModelPackageLoadResult(new LoadedModelPackage(manifest!, spec!, digest, source, files.Model.LongLength, session), null);
    }

    private static PackageRejection? CheckSignature(InferenceSession session, ModelManifest manifest)
    {
        var features = manifest.Input.Shape[1];
        if (session.InputMetadata.Count != 1 || !session.InputMetadata.TryGetValue(manifest.Input.Name, out var input))
        {
            return new PackageRejection(PackageRejectionReason.InputMismatch,
                "the model must have exactly one input named '" + manifest.Input.Name + "'; it has: " + string.Join(", ", session.InputMetadata.Keys));
        }

        if (!input.IsTensor || input.ElementDataType != TensorElementType.Float)
        {
            return new PackageRejection(PackageRejectionReason.InputMismatch,
                "input '" + manifest.Input.Name + "' must be a float32 tensor; the model declares " + input.ElementDataType);
        }

        var dims = input.Dimensions;
        if (dims.Length != 2)
        {
            return new PackageRejection(PackageRejectionReason.InputMismatch,
                F($"input '{manifest.Input.Name}' must have rank 2 [batch, {features}]; the model declares rank {dims.Length}"));
        }

        if (dims[1] != features)
        {
            return new PackageRejection(PackageRejectionReason.InputMismatch,
                F($"input '{manifest.Input.Name}' takes {dims[1]} features; the feature spec has {features}"));
        }

        if (dims[0] > 0)
        {
            return new PackageRejection(PackageRejectionReason.InputMismatch,
                F($"input '{manifest.Input.Name}' has a fixed batch dimension {dims[0]}; it must be dynamic"));
        }

        foreach (var output in manifest.Outputs)
        {
            if (!session.OutputMetadata.TryGetValue(output.Name, out var meta))
            {
                return new PackageRejection(PackageRejectionReason.OutputMismatch,
                    "output '" + output.Name + "' is not produced by the model; it has: " + string.Join(", ", session.OutputMetadata.Keys));
            }

            var expected = output.ElementType == TensorElementKind.Int64 ? TensorElementType.Int64 : TensorElementType.Float;
            if (!meta.IsTensor || meta.ElementDataType != expected)
            {
                return new PackageRejection(PackageRejectionReason.OutputMismatch,
                    "output '" + output.Name + "' is " + meta.ElementDataType + "; the manifest says " + expected);
            }

            var columns = ExpectedColumns(output);
            var outDims = meta.Dimensions;
            var rankOk = outDims.Length == 1 ? columns == 1 : outDims.Length == 2 && (outDims[1] < 0 || outDims[1] == columns);
            if (!rankOk)
            {
                return new PackageRejection(PackageRejectionReason.OutputMismatch,
                    F($"output '{output.Name}' has shape [{string.Join(", ", outDims)}]; expected [batch] or [batch, {columns}]"));
            }
        }

        return null;
    }

    internal static int ExpectedColumns(ModelOutputSpec output) =>
        output.Meaning == OutputMeaning.FailureModeClass ? output.Classes!.Count : 1;

    private static PackageRejection? RunGoldenVectors(InferenceSession session, ModelManifest manifest, TimeSpan timeout)
    {
        var cases = manifest.GoldenVectors.Cases;
        if (cases.Count == 0)
        {
            return null;
        }

        var features = (int)manifest.Input.Shape[1];
        var input = new float[cases.Count * features];
        for (var i = 0; i < cases.Count; i++)
        {
            for (var j = 0; j < features; j++)
            {
                input[(i * features) + j] = cases[i].Input[j];
            }
        }

        var outputNames = new string[manifest.Outputs.Count];
        for (var i = 0; i < outputNames.Length; i++)
        {
            outputNames[i] = manifest.Outputs[i].Name;
        }

        try
        {
            using var value = OrtValue.CreateTensorValueFromMemory(input, [cases.Count, features]);
            using var runOptions = new RunOptions();
            using var timer = new Timer(static state => ((RunOptions)state!).Terminate = true, runOptions, timeout, Timeout.InfiniteTimeSpan);
            using var results = session.Run(runOptions, [manifest.Input.Name], [value], outputNames);
            var tolerance = manifest.GoldenVectors.Tolerance;
            for (var o = 0; o < outputNames.Length; o++)
            {
                var actual = ReadAsDouble(results[o]);
                var perRow = actual.Length / cases.Count;
                for (var i = 0; i < cases.Count; i++)
                {
                    if (!cases[i].Outputs.TryGetValue(outputNames[o], out var expected))
                    {
                        continue;
                    }

                    if (expected.Count != perRow)
                    {
                        return new PackageRejection(PackageRejectionReason.GoldenVectorMismatch,
                            F($"case {i} output '{outputNames[o]}': expected {expected.Count} values, the model produced {perRow}"));
                    }

                    for (var k = 0; k < perRow; k++)
                    {
                        var got = actual[(i * perRow) + k];
                        if (!double.IsFinite(got) || Math.Abs(got - expected[k]) > tolerance)
                        {
                            return new PackageRejection(PackageRejectionReason.GoldenVectorMismatch,
                                F($"case {i} output '{outputNames[o]}'[{k}]: expected {expected[k]:R}, got {got:R} (tolerance {tolerance:R})"));
                        }
                    }
                }
            }
        }
        catch (OnnxRuntimeException ex)
        {
            return new PackageRejection(PackageRejectionReason.GoldenVectorRunFailed, "running the golden vectors failed: " + ex.Message);
        }

        return null;
    }

    private static double[] ReadAsDouble(OrtValue value)
    {
        var type = value.GetTensorTypeAndShape().ElementDataType;
        if (type == TensorElementType.Int64)
        {
            var longs = value.GetTensorDataAsSpan<long>();
            var result = new double[longs.Length];
            for (var i = 0; i < longs.Length; i++)
            {
                result[i] = longs[i];
            }

            return result;
        }

        var floats = value.GetTensorDataAsSpan<float>();
        var doubles = new double[floats.Length];
        for (var i = 0; i < floats.Length; i++)
        {
            doubles[i] = floats[i];
        }

        return doubles;
    }

    private static ModelPackageLoadResult Fail(PackageRejectionReason reason, string detail) =>
        new(null, new PackageRejection(reason, detail));

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
