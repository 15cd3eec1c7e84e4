using Microsoft.Extensions.Options;
using PdM.ModelPackage;
using PdM.ModelPackage.Signing;

namespace PdM.Edge.Gateway.Deployment;

/// <summary>The registry public keys this gateway trusts (read once, validated at start), and the signature check.</summary>
public sealed class TrustedRegistryKeys : IDisposable
{
    private readonly PackageSignatureVerifier? _verifier;

    public TrustedRegistryKeys(IOptions<DeploymentOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var pem = options.Value.TrustedKeysPem();
        _verifier = string.IsNullOrWhiteSpace(pem) ? null : new PackageSignatureVerifier(pem);
    }

    public bool HasKeys => _verifier is not null;

    /// <summary>Null when the package is what the registry signed; otherwise the refusal and its reason.</summary>
    public SignatureRefusal? Verify(ModelPackageFiles files, string signedDigest, string? signature)
    {
        if (_verifier is not null)
        {
            return _verifier.Verify(files, signedDigest, signature);
        }

        return string.IsNullOrEmpty(signature)
            ? new SignatureRefusal(SignatureRefusalReason.NotSigned, "the package carries no registry signature; only approved, signed packages are loaded")
            : new SignatureRefusal(SignatureRefusalReason.BadSignature, "no trusted registry public key is configured (Gateway:Deployment:TrustedPublicKeys or TrustedPublicKeyPaths), so no signature can be verified");
    }

    public void Dispose() => _verifier?.Dispose();
}
