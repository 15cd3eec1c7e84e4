using Microsoft.Extensions.Logging;

namespace PdM.Edge.Inference;

/// <summary>
/// Keeps <c>{store}/{assetClass}/deployment.json</c> (<see cref="LocalModelStore"/>) in step with what the slots run,
/// so a restart (<see cref="ModelSlots.LoadFromStore"/>) comes back to it: after a deployment (the gateway's deployment
/// worker calls <see cref="Record"/>) and after an automatic rollback (the slots reconcile it themselves: a rolled-back
/// production version or canary must not come back at the next start). One lock, since both write the same file.
/// Does nothing without <see cref="InferenceOptions.ModelStorePath"/>.
/// </summary>
public sealed partial class ModelStoreState
{
    private readonly Lock _gate = new();
    private readonly ModelSlots _slots;
    private readonly string? _storePath;
    private readonly ILogger _logger;

    internal ModelStoreState(ModelSlots slots, InferenceOptions options, ILogger logger)
    {
        _slots = slots;
        _storePath = options.ModelStorePath is { Length: > 0 } path ? path : null;
        _logger = logger;
    }

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
    internal void Reconcile(string assetClass)
    {
        if (Store() is not { } store || _slots.Find(assetClass) is not { } slot)
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
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogNotSaved(_logger, assetClass, ex.Message);
        }
    }

    private LocalModelStore? Store() => _storePath is { } path ? new LocalModelStore(path) : null;

    /// <summary>Writes the roles as the slot has them now (a promoted, archived or rolled-back candidate is gone) and drops unused candidate files.</summary>
    private void Save(LocalModelStore store, string assetClass, StoreDeploymentState state)
    {
        var slot = _slots.Find(assetClass);
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
                    File.Delete(file + LocalModelStore.RecordSuffix);
                }
                catch (IOException ex)
                {
                    LogNotSaved(_logger, assetClass, ex.Message);
                }
            }
        }
    }

    [LoggerMessage(EventId = 1631, Level = LogLevel.Warning, Message = "Model store state of {AssetClass} not updated (a restart may load an older arrangement): {Reason}")]
    private static partial void LogNotSaved(ILogger logger, string assetClass, string reason);
}
