using Microsoft.Extensions.Options;
using PdM.Edge.Inference;

namespace PdM.Edge.Gateway.Models;

/// <summary>
/// At start, loads the local model store, if one is configured: per asset class the production package the registry
/// last deployed (else the newest valid version), the version before it for rollback, and the canary and shadow.
/// </summary>
public sealed partial class ModelStoreLoader(ModelSlots slots, IOptions<InferenceOptions> options, ILogger<ModelStoreLoader> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.ModelStorePath is { Length: > 0 } path)
        {
            Directory.CreateDirectory(path);
            var loaded = slots.LoadFromStore(new LocalModelStore(path));
            LogLoaded(logger, loaded, path, slots.ActiveProvider);
        }
        else
        {
            LogRulesOnly(logger, slots.ActiveProvider);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Loaded {Count} model(s) from {Path}; ONNX Runtime provider: {Provider}")]
    private static partial void LogLoaded(ILogger logger, int count, string path, string provider);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "No model store configured (Inference:ModelStorePath): the rules decide; ONNX Runtime provider: {Provider}")]
    private static partial void LogRulesOnly(ILogger logger, string provider);
}
