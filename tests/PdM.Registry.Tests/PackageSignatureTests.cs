using PdM.ModelPackage;
using PdM.ModelPackage.Signing;

namespace PdM.Registry.Tests;

/// <summary>What a gateway checks before loading: the package is exactly what the registry's key signed.</summary>
public sealed class PackageSignatureTests : IDisposable
{
    private readonly PackageSigner _registry = PackageSigner.Generate();
    private readonly PackageSignatureVerifier _verifier;
    private readonly byte[] _model;
    private readonly byte[] _manifest;
    private readonly string _digest;
    private readonly string _signature;

    public PackageSignatureTests()
    {
        _verifier = new PackageSignatureVerifier(_registry.ExportPublicKeyPem());
        (_model, _manifest) = TestPackages.Load("logreg_failure", "signed-model");
        _digest = PackageDigest.Compute(_model, _manifest);
        _signature = _registry.Sign(_digest);
    }

    [Fact]
    public void A_package_signed_by_the_registry_key_is_accepted() =>
        Assert.Null(_verifier.Verify(_model, _manifest, _digest, _signature));

    [Fact]
    public void A_modified_artifact_byte_is_refused_as_a_digest_mismatch()
    {
        var tampered = (byte[])_model.Clone();
        tampered[tampered.Length / 2] ^= 0x01;

        var refusal = _verifier.Verify(tampered, _manifest, _digest, _signature);

        Assert.NotNull(refusal);
        Assert.Equal(SignatureRefusalReason.DigestMismatch, refusal.Reason);
        Assert.Equal("digest_mismatch", refusal.Code);
        Assert.Contains("modified after approval", refusal.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_changed_threshold_in_the_manifest_is_refused_as_a_digest_mismatch()
    {
        var text = System.Text.Encoding.UTF8.GetString(_manifest).Replace("\"failureProbabilityAlert\":0.5", "\"failureProbabilityAlert\":0.9", StringComparison.Ordinal);
        Assert.NotEqual(System.Text.Encoding.UTF8.GetString(_manifest), text);

        Assert.Equal(SignatureRefusalReason.DigestMismatch, _verifier.Verify(_model, System.Text.Encoding.UTF8.GetBytes(text), _digest, _signature)?.Reason);
    }

    [Fact]
    public void A_signature_from_another_key_or_for_another_package_is_refused_as_a_bad_signature()
    {
        using var impostor = PackageSigner.Generate();
        var foreign = _verifier.Verify(_model, _manifest, _digest, impostor.Sign(_digest));
        Assert.Equal(SignatureRefusalReason.BadSignature, foreign?.Reason);
        Assert.Contains("does not verify with the configured registry public key", foreign!.Detail, StringComparison.Ordinal);

        var otherPackage = _registry.Sign(new string('a', 64));
        Assert.Equal(SignatureRefusalReason.BadSignature, _verifier.Verify(_model, _manifest, _digest, otherPackage)?.Reason);

        var garbage = _verifier.Verify(_model, _manifest, _digest, "bm90IGEgc2lnbmF0dXJl");
        Assert.Equal("bad_signature", garbage?.Code);
        Assert.Contains("not a base64 ECDSA P-256", garbage!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unsigned_package_is_refused_as_unsigned()
    {
        var refusal = _verifier.Verify(_model, _manifest, _digest, signature: null);

        Assert.Equal(SignatureRefusalReason.NotSigned, refusal?.Reason);
        Assert.Equal("unsigned", refusal!.Code);
        Assert.Equal("unsigned", _verifier.VerifyDigest(_digest, string.Empty)?.Code);
    }

    [Fact]
    public void A_rotated_key_set_accepts_both_keys_and_a_non_p256_key_is_refused()
    {
        using var next = PackageSigner.Generate();
        using var both = new PackageSignatureVerifier(_registry.ExportPublicKeyPem() + "\n" + next.ExportPublicKeyPem());
        Assert.Null(both.VerifyDigest(_digest, _signature));
        Assert.Null(both.VerifyDigest(_digest, next.Sign(_digest)));

        using var p384 = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP384);
        Assert.Throws<System.Security.Cryptography.CryptographicException>(() => new PackageSignatureVerifier(p384.ExportSubjectPublicKeyInfoPem()));
    }

    public void Dispose()
    {
        _registry.Dispose();
        _verifier.Dispose();
    }
}
