using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using PdM.Contracts.Registry;
using PdM.Edge.Gateway.Uplink;
using PdM.Edge.Inference;
using PdM.ModelPackage;

namespace PdM.Edge.Gateway.Deployment;

/// <summary>How one deployment ended: a success code (<c>deployed</c>, <c>archived</c>, <c>not_deployed</c>) or the refusal reason.</summary>
public sealed record DeploymentOutcome(bool Succeeded, string Reason, string Detail)
{
    /// <summary>Assets of the class that cannot feed the model's features (they keep the rules); null when none.</summary>
    public IReadOnlyList<AssetSensorCoverage>? FallbackAssets { get; init; }

    /// <summary>Assets of the class that decide with the model; null when the gateway holds none of the class.</summary>
    public int? DecidingAssets { get; init; }
}

/// <summary>
/// The gateway's one deployment worker: takes requests one at a time and downloads (resuming), checks the artifact's
/// SHA-256, verifies the registry signature (required for the stages in <c>SignatureRequiredStages</c>, checked
/// whenever present), validates and loads those same bytes in its stage, keeps the package in the model store with the
/// registry's digest and signature (checked again at every start: <see cref="Models.StoredPackageVerifier"/>), and
/// journals <see cref="ModelDeploymentSucceeded"/> or <see cref="ModelDeploymentFailed"/> for the registry. A refused
/// package is deleted and never touches the running models. Outcomes are counted (<c>pdm.gateway.deployments</c>).
/// </summary>
public sealed partial class DeploymentWorker(
    DeploymentInbox queue,
    DeploymentLedger ledger,
    ArtifactDownloader downloader,
    TrustedRegistryKeys keys,
    ModelSlots slots,
    ModelStoreState storeState,
    FeatureCoverage coverage,
    EventJournal journal,
    IOptions<GatewayOptions> gateway,
    IOptions<InferenceOptions> inference,
    IOptions<DeploymentOptions> options,
    GatewayTelemetry telemetry,
    TimeProvider time,
    ILogger<DeploymentWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Accepted before a restart but never finished: the bus message was acknowledged, so only the ledger has them.
            foreach (var pending in ledger.Pending())
            {
                await HandleAsync(pending, stoppingToken);
            }

            await foreach (var request in queue.Reader.ReadAllAsync(stoppingToken))
            {
                await HandleAsync(request, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs one deployment to its outcome and journals it; a request already completed does nothing.</summary>
    private async Task HandleAsync(ModelDeploymentRequested request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var activity = GatewayTelemetry.ActivitySource.StartActivity("model deploy");
        activity?.SetTag("pdm.deployment.id", request.DeploymentId.ToString());
        activity?.SetTag("pdm.model.name", request.ModelName);
        activity?.SetTag("pdm.model.version", request.ModelVersion);
        activity?.SetTag("pdm.asset.class", request.AssetClass);
        if (ledger.IsCompleted(request.DeploymentId))
        {
            telemetry.Deployment("duplicate", "already_handled");
            return;
        }

        DeploymentOutcome outcome;
        try
        {
            outcome = await DeployAsync(request, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The worker must outlive any one deployment; the registry hears what went wrong.
            outcome = Failed("internal_error", ex.GetType().Name + ": " + ex.Message);
        }

        var gatewayId = gateway.Value.EffectiveGatewayId;
        var eventId = EventIdFor(request.DeploymentId, gatewayId);
        var now = time.GetUtcNow();
        object message = outcome.Succeeded
            ? new ModelDeploymentSucceeded
            {
                EventId = eventId,
                DeploymentId = request.DeploymentId,
                SiteId = gateway.Value.SiteId,
                GatewayId = gatewayId,
                ModelName = request.ModelName,
                ModelVersion = request.ModelVersion,
                PackageDigest = request.PackageDigest,
                Stage = request.Stage,
                CanaryShare = request.Stage == ModelStage.Canary ? request.CanaryShare : null,
                FallbackAssets = outcome.FallbackAssets,
                DecidingAssets = outcome.DecidingAssets,
                OccurredAt = now,
            }
            : new ModelDeploymentFailed
            {
                EventId = eventId,
                DeploymentId = request.DeploymentId,
                SiteId = gateway.Value.SiteId,
                GatewayId = gatewayId,
                ModelName = request.ModelName,
                ModelVersion = request.ModelVersion,
                PackageDigest = request.PackageDigest,
                Stage = request.Stage,
                Reason = outcome.Reason,
                Detail = outcome.Detail,
                FallbackAssets = outcome.FallbackAssets,
                OccurredAt = now,
            };
        await journal.AppendAsync(message, eventId, now, cancellationToken);
        ledger.Complete(request.DeploymentId);
        telemetry.Deployment(outcome.Succeeded ? "succeeded" : "failed", outcome.Reason);
        if (outcome.Succeeded)
        {
            LogSucceeded(logger, request.DeploymentId, request.ModelName, request.ModelVersion, request.Stage, request.AssetClass, outcome.Reason);
        }
        else
        {
            LogFailed(logger, request.DeploymentId, request.ModelName, request.ModelVersion, request.Stage, request.AssetClass, outcome.Reason, outcome.Detail);
        }
    }

    /// <summary>
    /// The same id for every attempt at the same deployment on this gateway: if the gateway dies after journaling the
    /// outcome but before recording it done, the repeat carries the same message id and the registry's inbox drops it.
    /// </summary>
    public static Guid EventIdFor(Guid deploymentId, string gatewayId)
    {
        ArgumentNullException.ThrowIfNull(gatewayId);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(deploymentId.ToString("N") + "/" + gatewayId), hash);
        return new Guid(hash[..16]);
    }

    private async Task<DeploymentOutcome> DeployAsync(ModelDeploymentRequested request, CancellationToken cancellationToken)
    {
        if (inference.Value.ModelStorePath is not { Length: > 0 } storePath)
        {
            return Failed("no_model_store", "Inference:ModelStorePath is not set: the gateway has nowhere to keep deployed packages");
        }

        var store = new LocalModelStore(storePath);
        switch (request.Stage)
        {
            case ModelStage.Archived:
                return Archive(request);
            case ModelStage.Candidate:
                return Failed("invalid_request", "stage Candidate is registry-only and never deployed to a gateway");
            case ModelStage.Canary when request.CanaryShare is not (> 0 and <= 1):
                return Failed("invalid_canary_share", string.Create(CultureInfo.InvariantCulture, $"a canary needs a share in (0, 1]; got {request.CanaryShare?.ToString(CultureInfo.InvariantCulture) ?? "none"}"));
        }

        if (!Uri.TryCreate(request.ArtifactUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            return Failed("download_failed", "ArtifactUrl is not an absolute http(s) URL: " + request.ArtifactUrl);
        }

        var part = Path.Combine(storePath, ".downloads", request.DeploymentId.ToString("N") + ".zip.part");
        try
        {
            var download = await downloader.DownloadAsync(url, part, cancellationToken);
            if (!download.Succeeded)
            {
                return Failed("download_failed", download.FailureDetail ?? "the download failed");
            }

            LogDownloaded(logger, request.DeploymentId, download.Attempts, download.ResumedAttempts);
            if (!string.Equals(download.Sha256, request.ArtifactSha256, StringComparison.OrdinalIgnoreCase))
            {
                return Failed("artifact_sha_mismatch", $"the downloaded artifact hashes to {download.Sha256}, but the deployment names {request.ArtifactSha256}: it changed in transit or in storage");
            }

            var limits = new ModelPackageLimits { MaxModelBytes = inference.Value.MaxModelBytes };
            var (files, rejection) = ModelPackageFiles.Read(part, limits);
            if (files is null)
            {
                return Failed(rejection!.Code, rejection.Detail);
            }

            if (options.Value.EffectiveSignatureRequiredStages.Contains(request.Stage) || !string.IsNullOrEmpty(request.Signature))
            {
                if (keys.Verify(files, request.PackageDigest, request.Signature) is { } refusal)
                {
                    return Failed(refusal.Code, refusal.Detail);
                }
            }
            else if (DigestOf(files) is var digest && !string.Equals(digest, request.PackageDigest, StringComparison.Ordinal))
            {
                // Unsigned stages still load only the package the registry named.
                return Failed("digest_mismatch", $"the package content hashes to {digest ?? "(unreadable manifest)"}, but the deployment names {request.PackageDigest}");
            }

            // A model none of this gateway's assets of the class can feed would only ever fall back: refused, not
            // reported as a success. Some that can: it loads, and the answer names the assets that keep the rules.
            var modelSpec = ManifestFeatureSpec.Read(files.Manifest);
            var covered = modelSpec is null ? null : coverage.Check(request.AssetClass, modelSpec);
            if (covered is { Assets: > 0, Deciding: 0 })
            {
                return Failed("feature_mismatch", string.Create(CultureInfo.InvariantCulture,
                    $"none of the {covered.Assets} {request.AssetClass} asset(s) on this gateway can feed {request.ModelName}@{request.ModelVersion}: {covered.Describe(request.AssetClass, modelSpec!.Features.Count)}; nothing was loaded, the rules keep deciding"))
                    with { FallbackAssets = covered.Fallback };
            }

            // The bytes just verified are the ones loaded: never read back from disk, where they could have changed since.
            var result = request.Stage switch
            {
                ModelStage.Shadow => slots.DeployShadow(request.AssetClass, files, part),
                ModelStage.Canary => slots.DeployCanary(request.AssetClass, files, part, request.CanaryShare!.Value),
                _ => slots.Deploy(request.AssetClass, files, part),
            };
            if (!result.Succeeded)
            {
                return Failed(result.FailureCode ?? "load_failed", result.Detail ?? "the package could not be loaded");
            }

            Persist(store, request, part, limits);
            var loaded = result.Model?.ToString() ?? request.ModelName;
            return covered is { Assets: > 0 }
                ? new DeploymentOutcome(true, "deployed", covered.Fallback.Count == 0
                    ? loaded
                    : string.Create(CultureInfo.InvariantCulture, $"{loaded}; {covered.Deciding} asset(s) decide with it, {covered.Fallback.Count} keep the rules: {covered.Describe(request.AssetClass, modelSpec!.Features.Count)}"))
                {
                    FallbackAssets = covered.Fallback.Count == 0 ? null : covered.Fallback,
                    DecidingAssets = covered.Deciding,
                }
                : new DeploymentOutcome(true, "deployed", loaded);
        }
        finally
        {
            TryDelete(part);
        }
    }

    private DeploymentOutcome Archive(ModelDeploymentRequested request)
    {
        if (!slots.RemoveCandidate(request.AssetClass, request.PackageDigest))
        {
            return new DeploymentOutcome(true, "not_deployed", "the version is neither the canary nor the shadow here");
        }

        storeState.Record(request.AssetClass, static state => state);
        return new DeploymentOutcome(true, "archived", "removed from canary/shadow");
    }

    /// <summary>Keeps the deployed package and its role in the model store, so a restart comes back the same.</summary>
    private void Persist(LocalModelStore store, ModelDeploymentRequested request, string part, ModelPackageLimits limits)
    {
        try
        {
            var (stored, rejection) = request.Stage == ModelStage.Production ? store.Install(part, limits) : store.InstallCandidate(part, limits);
            if (stored is null)
            {
                LogNotPersisted(logger, request.DeploymentId, rejection?.ToString() ?? "unknown");
                return;
            }

            // What the registry named travels with the package: every later load checks the bytes against it.
            LocalModelStore.WriteRecord(stored.Path, new StoredPackageRecord
            {
                PackageDigest = request.PackageDigest,
                Signature = string.IsNullOrEmpty(request.Signature) ? null : request.Signature,
                SigningKeyId = request.SigningKeyId,
            });
            var name = Path.GetFileName(stored.Path);
            storeState.Record(request.AssetClass, state => request.Stage switch
            {
                ModelStage.Production => state with { Production = name },
                ModelStage.Canary => state with { Canary = name, CanaryShare = request.CanaryShare },
                _ => state with { Shadow = name },
            });
        }
        catch (IOException ex)
        {
            // The model runs; only a restart would lose it. Said loudly rather than failing a working deployment.
            LogNotPersisted(logger, request.DeploymentId, ex.Message);
        }
    }

    private static string? DigestOf(ModelPackageFiles files)
    {
        try
        {
            return PackageDigest.Compute(files.Model, files.Manifest);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static DeploymentOutcome Failed(string reason, string detail) => new(false, reason, detail);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Left for the next deployment's clean-up; never worth failing a deployment for.
        }
    }

    [LoggerMessage(EventId = 1620, Level = LogLevel.Information, Message = "Deployment {DeploymentId}: downloaded in {Attempts} attempt(s), {Resumed} of them resumed")]
    private static partial void LogDownloaded(ILogger logger, Guid deploymentId, int attempts, int resumed);

    [LoggerMessage(EventId = 1621, Level = LogLevel.Information, Message = "Deployment {DeploymentId}: {Model}@{Version} as {Stage} for {AssetClass}: {Result}")]
    private static partial void LogSucceeded(ILogger logger, Guid deploymentId, string model, string version, ModelStage stage, string assetClass, string result);

    [LoggerMessage(EventId = 1622, Level = LogLevel.Warning, Message = "Deployment {DeploymentId}: {Model}@{Version} as {Stage} for {AssetClass} refused: {Reason}: {Detail}")]
    private static partial void LogFailed(ILogger logger, Guid deploymentId, string model, string version, ModelStage stage, string assetClass, string reason, string detail);

    [LoggerMessage(EventId = 1623, Level = LogLevel.Warning, Message = "Deployment {DeploymentId} runs but was not kept in the model store (lost at restart): {Reason}")]
    private static partial void LogNotPersisted(ILogger logger, Guid deploymentId, string reason);
}
