using Microsoft.Extensions.Options;
using PdM.Edge.Gateway.Uplink;
using PdM.Edge.Inference;

namespace PdM.Edge.Gateway.Models;

/// <summary>
/// At start, loads the local model store, if one is configured: per asset class the production package the registry
/// last deployed (else the newest valid version), the version before it for rollback, and the canary and shadow.
/// Every package is checked (<see cref="StoredPackageVerifier"/>) on the very bytes that are then loaded; a refused
/// one never decides (the last version that passes does, or the rules), and each refusal is journaled for the cloud's
/// audit log as a <c>ModelIntegrityViolation</c>.
/// </summary>
public sealed partial class ModelStoreLoader(
    ModelSlots slots,
    StoredPackageVerifier verifier,
    EventJournal journal,
    IOptions<InferenceOptions> options,
    ILogger<ModelStoreLoader> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.ModelStorePath is { Length: > 0 } path)
        {
            Directory.CreateDirectory(path);
            if (!verifier.Enabled)
            {
                LogUnverified(logger, path);
            }

            var loaded = slots.LoadFromStore(new LocalModelStore(path), verifier.Check);
            LogLoaded(logger, loaded, path, slots.ActiveProvider);
            foreach (var violation in verifier.TakeViolations())
            {
                await journal.AppendAsync(violation, violation.EventId, violation.OccurredAt, cancellationToken);
            }
        }
        else
        {
            LogRulesOnly(logger, slots.ActiveProvider);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Loaded {Count} model(s) from {Path}; ONNX Runtime provider: {Provider}")]
    private static partial void LogLoaded(ILogger logger, int count, string path, string provider);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "No model store configured (Inference:ModelStorePath): the rules decide; ONNX Runtime provider: {Provider}")]
    private static partial void LogRulesOnly(ILogger logger, string provider);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Warning, Message = "No trusted registry key configured (Gateway:Deployment:TrustedPublicKeys): the packages in {Path} are the operator's and are loaded without a digest or signature check")]
    private static partial void LogUnverified(ILogger logger, string path);
}
