using System.Globalization;
using System.Security.Cryptography;
using PdM.Contracts.Registry;
using PdM.ModelPackage.Signing;

namespace PdM.Edge.Gateway.Deployment;

/// <summary>Section <c>Gateway:Deployment</c>: how the gateway takes model deployments from the registry.</summary>
public sealed class DeploymentOptions
{
    public const string Section = "Gateway:Deployment";

    /// <summary>Bearer token for the registry's artifact endpoint (a <c>gateway</c> role token). Prefer the file form.</summary>
    public string? RegistryAccessToken { get; set; }

    /// <summary>A file holding the token, re-read for every download so a rotated token needs no restart.</summary>
    public string? RegistryAccessTokenFile { get; set; }

    /// <summary>The registry's signing public keys, SubjectPublicKeyInfo PEM (several during a key rotation).</summary>
    public List<string> TrustedPublicKeys { get; set; } = [];

    /// <summary>Files holding more trusted public keys (PEM).</summary>
    public List<string> TrustedPublicKeyPaths { get; set; } = [];

    /// <summary>
    /// Stages whose packages must carry a valid registry signature; default Canary and Production, the stages that
    /// decide for assets (a shadow never does). A signature that is present is always verified, whatever the stage.
    /// </summary>
    public ModelStage[]? SignatureRequiredStages { get; set; }

    /// <summary>Download attempts per deployment (each resumes where the last one stopped).</summary>
    public int MaxDownloadAttempts { get; set; } = 6;

    public double RetryInitialDelaySeconds { get; set; } = 0.5;

    public double RetryMaxDelaySeconds { get; set; } = 30;

    /// <summary>Bound for one download attempt, headers to last byte.</summary>
    public double AttemptTimeoutSeconds { get; set; } = 300;

    /// <summary>A package zip larger than this is refused before it fills the disk.</summary>
    public long MaxArtifactBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Requests waiting for the deployment worker; the consumer waits when it is full.</summary>
    public int QueueCapacity { get; set; } = 32;

    public IReadOnlySet<ModelStage> EffectiveSignatureRequiredStages =>
        new HashSet<ModelStage>(SignatureRequiredStages ?? [ModelStage.Canary, ModelStage.Production]);

    /// <summary>Every trusted key as one PEM text; empty when none is configured.</summary>
    public string TrustedKeysPem()
    {
        var pem = new System.Text.StringBuilder();
        foreach (var key in TrustedPublicKeys)
        {
            pem.AppendLine(key);
        }

        foreach (var path in TrustedPublicKeyPaths)
        {
            pem.AppendLine(File.ReadAllText(path));
        }

        return pem.ToString();
    }

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxDownloadAttempts is < 1 or > 100)
        {
            problems.Add("MaxDownloadAttempts must be 1..100");
        }

        if (!(RetryInitialDelaySeconds > 0) || RetryMaxDelaySeconds < RetryInitialDelaySeconds)
        {
            problems.Add("RetryInitialDelaySeconds must be > 0 and RetryMaxDelaySeconds at least as large");
        }

        if (!(AttemptTimeoutSeconds > 0))
        {
            problems.Add("AttemptTimeoutSeconds must be > 0");
        }

        if (MaxArtifactBytes < 1)
        {
            problems.Add("MaxArtifactBytes must be positive");
        }

        if (QueueCapacity is < 1 or > 10_000)
        {
            problems.Add("QueueCapacity must be 1..10000");
        }

        if (RegistryAccessTokenFile is { Length: > 0 } tokenFile && !File.Exists(tokenFile))
        {
            problems.Add("RegistryAccessTokenFile " + tokenFile + " does not exist");
        }

        foreach (var path in TrustedPublicKeyPaths)
        {
            if (!File.Exists(path))
            {
                problems.Add("TrustedPublicKeyPaths: " + path + " does not exist");
            }
        }

        for (var i = 0; i < TrustedPublicKeys.Count; i++)
        {
            if (!TrustedPublicKeys[i].Contains("-----BEGIN PUBLIC KEY-----", StringComparison.Ordinal))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"TrustedPublicKeys:{i} is not a '-----BEGIN PUBLIC KEY-----' PEM block"));
            }
        }

        if (problems.Count == 0 && (TrustedPublicKeys.Count > 0 || TrustedPublicKeyPaths.Count > 0))
        {
            try
            {
                using var verifier = new PackageSignatureVerifier(TrustedKeysPem());
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException or IOException)
            {
                problems.Add("the trusted public keys cannot be read: " + ex.Message);
            }
        }

        return problems;
    }
}
