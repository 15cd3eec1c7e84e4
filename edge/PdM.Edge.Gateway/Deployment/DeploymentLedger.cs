using System.Text.Json;
using Microsoft.Extensions.Options;
using PdM.Contracts.Registry;
using PdM.Edge.Inference;

namespace PdM.Edge.Gateway.Deployment;

/// <summary>
/// Makes deployments idempotent by <see cref="ModelDeploymentRequested.DeploymentId"/> across redeliveries and restarts.
/// In the model store's <c>.deployments</c> folder: a request is written to <c>pending/{id}.json</c> before the bus
/// message is acknowledged (so a crash before the work is done loses nothing: the worker resumes it at start), and
/// its id is appended to <c>completed</c> once the outcome is journaled. Without a model store it remembers in memory.
/// </summary>
public sealed class DeploymentLedger
{
    private readonly Lock _gate = new();
    private readonly string? _folder;
    private HashSet<Guid>? _completed;
    private Dictionary<Guid, ModelDeploymentRequested>? _pending;

    public DeploymentLedger(IOptions<InferenceOptions> inference)
    {
        ArgumentNullException.ThrowIfNull(inference);
        _folder = inference.Value.ModelStorePath is { Length: > 0 } store ? Path.Combine(store, ".deployments") : null;
    }

    private string? PendingFolder => _folder is null ? null : Path.Combine(_folder, "pending");

    private string? CompletedFile => _folder is null ? null : Path.Combine(_folder, "completed");

    /// <summary>Records a new request as pending; false when this deployment is already pending or done (a duplicate).</summary>
    public bool TryAccept(ModelDeploymentRequested request)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_gate)
        {
            Load();
            if (_completed!.Contains(request.DeploymentId) || _pending!.ContainsKey(request.DeploymentId))
            {
                return false;
            }

            if (PendingFolder is { } folder)
            {
                var file = Path.Combine(folder, request.DeploymentId.ToString("N") + ".json");
                var temporary = file + ".tmp";
                File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(request, RegistryJsonContext.Default.ModelDeploymentRequested));
                File.Move(temporary, file, overwrite: true);
            }

            _pending![request.DeploymentId] = request;
            return true;
        }
    }

    public bool IsCompleted(Guid deploymentId)
    {
        lock (_gate)
        {
            Load();
            return _completed!.Contains(deploymentId);
        }
    }

    /// <summary>Marks the deployment done (its outcome is in the journal): a redelivery is now ignored.</summary>
    public void Complete(Guid deploymentId)
    {
        lock (_gate)
        {
            Load();
            if (_completed!.Add(deploymentId) && CompletedFile is { } file)
            {
                using (var stream = new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.Read))
                {
                    stream.Write(System.Text.Encoding.ASCII.GetBytes(deploymentId.ToString("N") + "\n"));
                    stream.Flush(flushToDisk: true);
                }
            }

            _pending!.Remove(deploymentId);
            if (PendingFolder is { } folder)
            {
                File.Delete(Path.Combine(folder, deploymentId.ToString("N") + ".json"));
            }
        }
    }

    /// <summary>Requests accepted but not completed (for instance before a crash), oldest first.</summary>
    public IReadOnlyList<ModelDeploymentRequested> Pending()
    {
        lock (_gate)
        {
            Load();
            var pending = new List<ModelDeploymentRequested>(_pending!.Values);
            pending.Sort(static (a, b) => a.OccurredAt.CompareTo(b.OccurredAt));
            return pending;
        }
    }

    private void Load()
    {
        if (_completed is not null)
        {
            return;
        }

        var completed = new HashSet<Guid>();
        var pending = new Dictionary<Guid, ModelDeploymentRequested>();
        if (_folder is not null)
        {
            Directory.CreateDirectory(PendingFolder!);
            if (File.Exists(CompletedFile))
            {
                foreach (var line in File.ReadLines(CompletedFile))
                {
                    // A torn last line (power cut during the append) is skipped: that deployment is redone at worst.
                    if (Guid.TryParseExact(line.Trim(), "N", out var id))
                    {
                        completed.Add(id);
                    }
                }
            }

            foreach (var file in Directory.EnumerateFiles(PendingFolder!, "*.json"))
            {
                try
                {
                    if (JsonSerializer.Deserialize(File.ReadAllBytes(file), RegistryJsonContext.Default.ModelDeploymentRequested) is { } request
                        && !completed.Contains(request.DeploymentId))
                    {
                        pending[request.DeploymentId] = request;
                    }
                }
                catch (JsonException)
                {
                    File.Delete(file);
                }
            }
        }

        _pending = pending;
        _completed = completed;
    }
}
