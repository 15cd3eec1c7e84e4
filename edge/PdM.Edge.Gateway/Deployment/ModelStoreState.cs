using Microsoft.Extensions.Options;
using PdM.Edge.Inference;

namespace PdM.Edge.Gateway.Deployment;

/// <summary>
/// Keeps <c>{store}/{assetClass}/deployment.json</c> in step with what the slots run, so a restart comes back to it:
/// after a deployment (the worker) and after an automatic rollback (a rolled-back production version or canary must
/// not come back at the next start). One lock, since both write the same file.
/// </summary>
public sealed partial class ModelStoreState(ModelSlots slots, IOptions<InferenceOptions> inference, ILogger<ModelStoreState> logger)
{
    private readonly Lock _gate = new();

    /// <summary>Records a newly deployed role (production, canary or shadow file name), then reconciles the rest with the slot.</summary>
    public void Record(string assetClass, Func<StoreDeploymentState, StoreDeploymentState> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (Store() is not { } store)
        {
            return;
        }

        lock (_gate)
        {
            Save(store, assetClass, change(store.ReadState(assetClass)));
        }
    }

    /// <summary>Brings the file in line with the slot after a rollback: production as it runs now, no canary or shadow that is gone.</summary>
    public void Reconcile(string assetClass)
    {
        if (Store() is not { } store || slots.Find(assetClass) is not { } slot)
        {
            return;
        }

        try
        {
            lock (_gate)
            {
                var state = store.ReadState(assetClass);
                if (slot.Current is { } current && store.ProductionPath(assetClass, current.Name + "@" + current.Version + ".zip") is { } running)
                {
                    state = state with { Production = Path.GetFileName(running) };
                }

                Save(store, assetClass, state);
            }
        }
        catch (IOException ex)
        {
            LogNotSaved(logger, assetClass, ex.Message);
        }
    }

    private LocalModelStore? Store() =>
        inference.Value.ModelStorePath is { Length: > 0 } path ? new LocalModelStore(path) : null;

    /// <summary>Writes the roles as the slot has them now (a promoted, archived or rolled-back candidate is gone) and drops unused candidate files.</summary>
    private void Save(LocalModelStore store, string assetClass, StoreDeploymentState state)
    {
        var slot = slots.Find(assetClass);
        if (slot?.Canary is null)
        {
            state = state with { Canary = null, CanaryShare = null };
        }

        if (slot?.Shadow is null)
        {
            state = state with { Shadow = null };
        }

        store.WriteState(assetClass, state);
        var candidates = Path.Combine(store.Root, assetClass, LocalModelStore.CandidatesFolder);
        if (!Directory.Exists(candidates))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(candidates, "*.zip"))
        {
            var name = Path.GetFileName(file);
            if (name != state.Canary && name != state.Shadow)
            {
                try
                {
                    File.Delete(file);
                }
                catch (IOException ex)
                {
                    LogNotSaved(logger, assetClass, ex.Message);
                }
            }
        }
    }

    [LoggerMessage(EventId = 1631, Level = LogLevel.Warning, Message = "Model store state of {AssetClass} not updated (a restart may load an older arrangement): {Reason}")]
    private static partial void LogNotSaved(ILogger logger, string assetClass, string reason);
}
