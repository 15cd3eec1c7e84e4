using PdM.Contracts.Registry;
using PdM.Edge.Gateway.Deployment;
using PdM.ModelPackage.Signing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>The deployment settings are checked at start, so a gateway with an unusable key never starts refusing every package.</summary>
public sealed class DeploymentOptionsTests
{
    [Fact]
    public void A_readable_key_passes_and_every_stage_that_decides_must_be_signed_by_default()
    {
        using var signer = PackageSigner.Generate();
        var options = new DeploymentOptions { TrustedPublicKeys = [signer.ExportPublicKeyPem()] };

        Assert.Empty(options.Validate());
        Assert.Equal([ModelStage.Canary, ModelStage.Production], options.EffectiveSignatureRequiredStages.Order());
    }

    [Fact]
    public void An_unreadable_key_a_missing_key_file_and_bad_limits_are_each_named()
    {
        var options = new DeploymentOptions
        {
            TrustedPublicKeys = ["-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----"],
            MaxDownloadAttempts = 0,
        };
        Assert.Contains(options.Validate(), p => p.StartsWith("MaxDownloadAttempts", StringComparison.Ordinal));
        Assert.Contains(new DeploymentOptions { TrustedPublicKeys = options.TrustedPublicKeys }.Validate(), p => p.StartsWith("the trusted public keys cannot be read", StringComparison.Ordinal));
        Assert.Contains(new DeploymentOptions { TrustedPublicKeys = ["ssh-ed25519 AAAA"] }.Validate(), p => p.Contains("is not a '-----BEGIN PUBLIC KEY-----' PEM block", StringComparison.Ordinal));
        Assert.Contains(new DeploymentOptions { TrustedPublicKeyPaths = ["/nonexistent/registry.pem"] }.Validate(), p => p.Contains("/nonexistent/registry.pem does not exist", StringComparison.Ordinal));
    }
}
