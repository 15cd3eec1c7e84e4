using System.ComponentModel.DataAnnotations;

namespace PdM.Registry;

/// <summary>Section <c>Registry</c>.</summary>
public sealed class RegistryOptions
{
    public const string Section = "Registry";

    /// <summary>Artifacts and the development signing key live here. Default: <c>$PDM_STATE_DIR/registry</c>, else <c>.state/registry</c> under the content root.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>Folder of the filesystem artifact store. Default: <c>{StateDirectory}/artifacts</c>.</summary>
    public string? ArtifactsPath { get; set; }

    /// <summary>Base URL gateways reach the registry on (artifact URLs in deployment requests). Default: the request's own scheme and host.</summary>
    public Uri? PublicBaseUrl { get; set; }

    [Range(1L, 1024L * 1024 * 1024)]
    public long MaxModelBytes { get; set; } = 64L * 1024 * 1024;

    [Range(1L, 64L * 1024 * 1024)]
    public long MaxManifestBytes { get; set; } = 1024 * 1024;

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan OutboxPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public RegistrySigningOptions Signing { get; set; } = new();

    public PromotionGateOptions PromotionGates { get; set; } = new();
}

/// <summary>
/// Section <c>Registry:PromotionGates</c>: the gateways' shadow statistics a version needs at a site before Canary or
/// Production there, the first Production model of its asset class at the site included (an admin may waive them).
/// </summary>
public sealed class PromotionGateOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Rows compared with production, summed over every gateway's reports for the version.</summary>
    [Range(0L, long.MaxValue)]
    public long MinComparedRows { get; set; } = 1000;

    /// <summary>Agreed / compared rows (same health state as production).</summary>
    [Range(0.0, 1.0)]
    public double MinAgreementRatio { get; set; } = 0.9;

    /// <summary>Rows the candidate failed on / (compared + failed).</summary>
    [Range(0.0, 1.0)]
    public double MaxCandidateFailureRatio { get; set; } = 0.01;
}

/// <summary>Section <c>Registry:Signing</c>. No key configured: Development generates one into the state folder; any other environment fails at start.</summary>
public sealed class RegistrySigningOptions
{
    /// <summary>ECDSA P-256 private key, PEM (PKCS#8 or SEC1). From a secret store or environment, never from appsettings.</summary>
    public string? PrivateKeyPem { get; set; }

    /// <summary>A file holding the PEM private key (a mounted secret).</summary>
    public string? PrivateKeyPath { get; set; }
}
