using System.Text.Json;
using Microsoft.Extensions.Options;
using PdM.Contracts.Models;
using PdM.Contracts.Registry;
using PdM.Edge.Gateway.Deployment;
using PdM.Edge.Inference;
using PdM.ModelPackage;

namespace PdM.Edge.Gateway.Models;

/// <summary>
/// The integrity check of a package loaded from the gateway's own store at start (<see cref="ModelSlots.LoadFromStore"/>
/// hands it the bytes it will load): the content must hash to the digest the registry named (kept beside the package,
/// <see cref="StoredPackageRecord"/>), and for the stages in <c>SignatureRequiredStages</c> (and whenever a signature was
/// kept) the registry signature must verify with the trusted keys. A refusal is logged, counted
/// (<c>pdm.gateway.model_integrity_violations</c>) and kept as a <see cref="ModelIntegrityViolation"/> for the journal.
/// Without trusted keys the gateway takes no registry deployments, and its store is the operator's: loaded unchecked.
/// </summary>
public sealed partial class StoredPackageVerifier(
    TrustedRegistryKeys keys,
    IOptions<DeploymentOptions> deployment,
    IOptions<GatewayOptions> gateway,
    GatewayTelemetry telemetry,
    TimeProvider clock,
    ILogger<StoredPackageVerifier> logger)
{
    private readonly Lock _gate = new();
    private readonly List<ModelIntegrityViolation> _violations = [];

    /// <summary>Whether stored packages are checked at all (trusted registry keys are configured).</summary>
    public bool Enabled => keys.HasKeys;

    /// <summary>The <see cref="StoredPackageCheck"/> for <see cref="ModelSlots.LoadFromStore"/>.</summary>
    public PackageRejection? Check(string assetClass, string path, StoredRole role, ModelPackageFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (!Enabled)
        {
            return null;
        }

        var record = LocalModelStore.ReadRecord(path);
        var actual = DigestOf(files);
        if (record is null)
        {
            return Violation(assetClass, path, role, null, actual, "no_registry_record",
                "no readable record of the digest and signature the registry named is kept beside the package, so its bytes cannot be checked");
        }

        if (!string.Equals(actual, record.PackageDigest, StringComparison.Ordinal))
        {
            return Violation(assetClass, path, role, record.PackageDigest, actual, "digest_mismatch",
                $"the package content hashes to {actual ?? "(unreadable manifest)"}, but the registry named {record.PackageDigest}: it changed on disk after the download");
        }

        var stage = role switch
        {
            StoredRole.Canary => ModelStage.Canary,
            StoredRole.Shadow => ModelStage.Shadow,
            _ => ModelStage.Production,
        };
        if ((deployment.Value.EffectiveSignatureRequiredStages.Contains(stage) || !string.IsNullOrEmpty(record.Signature))
            && keys.Verify(files, record.PackageDigest, record.Signature) is { } refusal)
        {
            return Violation(assetClass, path, role, record.PackageDigest, actual, refusal.Code, refusal.Detail);
        }

        return null;
    }

    /// <summary>The violations found since the last call, for the journal.</summary>
    public IReadOnlyList<ModelIntegrityViolation> TakeViolations()
    {
        lock (_gate)
        {
            var taken = _violations.ToList();
            _violations.Clear();
            return taken;
        }
    }

    private PackageRejection Violation(string assetClass, string path, StoredRole role, string? expected, string? actual, string reason, string detail)
    {
        var options = gateway.Value;
        var violation = new ModelIntegrityViolation
        {
            EventId = Guid.CreateVersion7(clock.GetUtcNow()),
            GatewayId = options.EffectiveGatewayId,
            SiteId = options.SiteId,
            AssetClass = assetClass,
            PackageFile = Path.GetFileName(path),
            Role = role.ToString(),
            ExpectedDigest = expected,
            ActualDigest = actual,
            Reason = reason,
            Detail = detail,
            OccurredAt = clock.GetUtcNow(),
        };
        lock (_gate)
        {
            _violations.Add(violation);
        }

        telemetry.IntegrityViolations.Add(1, new KeyValuePair<string, object?>("reason", reason), new KeyValuePair<string, object?>("role", violation.Role));
        LogViolation(logger, path, assetClass, role, reason, detail);
        return new PackageRejection(PackageRejectionReason.IntegrityViolation, reason + ": " + detail);
    }

    private static string? DigestOf(ModelPackageFiles files)
    {
        try
        {
            return PackageDigest.Compute(files.Model, files.Manifest);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = 1303, Level = LogLevel.Critical, Message = "Model package {Path} ({AssetClass}, {Role}) refused at load, integrity violation: {Reason}: {Detail}")]
    private static partial void LogViolation(ILogger logger, string path, string assetClass, StoredRole role, string reason, string detail);
}
