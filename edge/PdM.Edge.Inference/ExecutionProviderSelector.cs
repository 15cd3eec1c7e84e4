using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace PdM.Edge.Inference;

/// <summary>
/// Picks the ONNX Runtime execution provider once at start and builds session options for it. <c>auto</c> tries
/// CUDA and falls back to CPU: the CPU package has no CUDA entry point (EntryPointNotFoundException) and the GPU
/// package on a machine without a GPU fails with OnnxRuntimeException. A requested <c>cuda</c>/<c>tensorrt</c> that
/// cannot be had also falls back to CPU, logged as an error: an edge box keeps deciding.
/// </summary>
public sealed partial class ExecutionProviderSelector
{
    public const string Cpu = "cpu";
    public const string Cuda = "cuda";
    public const string TensorRt = "tensorrt";

    private readonly InferenceOptions _options;

    public ExecutionProviderSelector(InferenceOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        ActiveProvider = Select(options, logger);
    }

    /// <summary>The provider sessions run on: <c>cpu</c>, <c>cuda</c> or <c>tensorrt</c>.</summary>
    public string ActiveProvider { get; }

    /// <summary>Session options for the active provider; the caller disposes them.</summary>
    public SessionOptions CreateSessionOptions()
    {
        var options = new SessionOptions
        {
            IntraOpNumThreads = _options.IntraOpNumThreads,
            InterOpNumThreads = _options.InterOpNumThreads,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        var spinning = _options.AllowSpinning ? "1" : "0";
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", spinning);
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", spinning);
        if (ActiveProvider != Cpu)
        {
            // Probed at start; should the device have gone away since, the session simply runs on CPU.
            TryAppend(options, ActiveProvider, _options.GpuDeviceId, out _);
        }

        return options;
    }

    private static string Select(InferenceOptions options, ILogger logger)
    {
        var requested = options.ExecutionProvider;
        if (requested == Cpu)
        {
            LogProvider(logger, Cpu, requested);
            return Cpu;
        }

        var candidate = requested == TensorRt ? TensorRt : Cuda;
        using var probe = new SessionOptions();
        if (TryAppend(probe, candidate, options.GpuDeviceId, out var error))
        {
            LogProvider(logger, candidate, requested);
            return candidate;
        }

        if (requested == "auto")
        {
            LogAutoFallback(logger, error);
        }
        else
        {
            LogRequestedUnavailable(logger, requested, error);
        }

        LogProvider(logger, Cpu, requested);
        return Cpu;
    }

    private static bool TryAppend(SessionOptions options, string provider, int deviceId, out string error)
    {
        try
        {
            if (provider == TensorRt)
            {
                options.AppendExecutionProvider_Tensorrt(deviceId);
            }

            options.AppendExecutionProvider_CUDA(deviceId);
            error = string.Empty;
            return true;
        }
        catch (EntryPointNotFoundException ex)
        {
            error = "this ONNX Runtime package has no " + provider + " provider (" + ex.Message + ")";
        }
        catch (DllNotFoundException ex)
        {
            error = "a native library of the " + provider + " provider is missing (" + ex.Message + ")";
        }
        catch (OnnxRuntimeException ex)
        {
            error = ex.Message;
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "ONNX Runtime execution provider: {Provider} (requested {Requested})")]
    private static partial void LogProvider(ILogger logger, string provider, string requested);

    [LoggerMessage(Level = LogLevel.Information, Message = "Execution provider auto: CUDA is not available, using CPU: {Error}")]
    private static partial void LogAutoFallback(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Execution provider {Requested} was requested but is not available, using CPU: {Error}")]
    private static partial void LogRequestedUnavailable(ILogger logger, string requested, string error);
}
