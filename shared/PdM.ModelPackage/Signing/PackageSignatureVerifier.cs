using System.Security.Cryptography;
using System.Text;

namespace PdM.ModelPackage.Signing;

/// <summary>Why a package's signature was refused. <see cref="SignatureRefusal.Code"/> is the stable string for logs and events.</summary>
public enum SignatureRefusalReason
{
    /// <summary>No signature came with the package.</summary>
    NotSigned,

    /// <summary>The package's content does not hash to the digest that was signed (a modified byte, a swapped file).</summary>
    DigestMismatch,

    /// <summary>The signature is not valid base64 / P1363, or does not verify with the configured public key.</summary>
    BadSignature,
}

public sealed record SignatureRefusal(SignatureRefusalReason Reason, string Detail)
{
    public string Code => Reason switch
    {
        SignatureRefusalReason.NotSigned => "unsigned",
        SignatureRefusalReason.DigestMismatch => "digest_mismatch",
        _ => "bad_signature",
    };

    public override string ToString() => Code + ": " + Detail;
}

/// <summary>
/// Verifies that a package is exactly what the registry approved: its content hashes to the signed digest and the
/// signature verifies with one of the configured registry public keys. Never throws for a bad package or signature;
/// returns the refusal with its reason (null when accepted).
/// </summary>
public sealed class PackageSignatureVerifier : IDisposable
{
    private readonly List<ECDsa> _keys = [];

    /// <param name="publicKeysPem">One or more SubjectPublicKeyInfo PEM blocks (several during a key rotation).</param>
    public PackageSignatureVerifier(string publicKeysPem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(publicKeysPem);
        const string begin = "-----BEGIN PUBLIC KEY-----";
        var start = publicKeysPem.IndexOf(begin, StringComparison.Ordinal);
        while (start >= 0)
        {
            var next = publicKeysPem.IndexOf(begin, start + begin.Length, StringComparison.Ordinal);
            var block = next < 0 ? publicKeysPem[start..] : publicKeysPem[start..next];
            var key = ECDsa.Create();
            key.ImportFromPem(block);
            if (key.KeySize != 256)
            {
                key.Dispose();
                throw new CryptographicException($"a configured registry public key is a {key.KeySize}-bit EC key; ECDSA P-256 is required");
            }

            _keys.Add(key);
            start = next;
        }

        if (_keys.Count == 0)
        {
            throw new CryptographicException("no '-----BEGIN PUBLIC KEY-----' block in the configured registry public key");
        }
    }

    /// <summary>Checks the package files against the signed digest and the signature.</summary>
    public SignatureRefusal? Verify(ModelPackageFiles files, string? signedDigest, string? signature)
    {
        ArgumentNullException.ThrowIfNull(files);
        return Verify(files.Model, files.Manifest, signedDigest, signature);
    }

    /// <summary>Checks the package bytes against the signed digest and the signature.</summary>
    public SignatureRefusal? Verify(ReadOnlySpan<byte> model, ReadOnlySpan<byte> manifestJson, string? signedDigest, string? signature)
    {
        if (string.IsNullOrEmpty(signature))
        {
            return new SignatureRefusal(SignatureRefusalReason.NotSigned, "the package carries no registry signature; only approved, signed packages are loaded");
        }

        string actual;
        try
        {
            actual = PackageDigest.Compute(model, manifestJson);
        }
        catch (System.Text.Json.JsonException ex)
        {
            return new SignatureRefusal(SignatureRefusalReason.DigestMismatch, "manifest.json is not valid JSON, so the package cannot match the signed digest: " + ex.Message);
        }

        if (!string.Equals(actual, signedDigest, StringComparison.Ordinal))
        {
            return new SignatureRefusal(SignatureRefusalReason.DigestMismatch,
                $"the package content hashes to {actual}, but the signed digest is {signedDigest ?? "(none)"}: the package was modified after approval");
        }

        return VerifyDigest(actual, signature);
    }

    /// <summary>Checks a signature over a digest alone (the caller has established that the content hashes to it).</summary>
    public SignatureRefusal? VerifyDigest(string digest, string? signature)
    {
        ArgumentNullException.ThrowIfNull(digest);
        if (string.IsNullOrEmpty(signature))
        {
            return new SignatureRefusal(SignatureRefusalReason.NotSigned, "the package carries no registry signature; only approved, signed packages are loaded");
        }

        var bytes = new byte[64];
        if (!Convert.TryFromBase64String(signature, bytes, out var written) || written != 64)
        {
            return new SignatureRefusal(SignatureRefusalReason.BadSignature, "the signature is not a base64 ECDSA P-256 (IEEE P1363, 64-byte) signature");
        }

        var data = Encoding.UTF8.GetBytes(PackageSigner.Domain + digest);
        foreach (var key in _keys)
        {
            if (key.VerifyData(data, bytes, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                return null;
            }
        }

        return new SignatureRefusal(SignatureRefusalReason.BadSignature,
            $"the signature over digest {digest} does not verify with the configured registry public key(s): signed by another key, or for another package");
    }

    public void Dispose()
    {
        foreach (var key in _keys)
        {
            key.Dispose();
        }
    }
}
