using System.Security.Cryptography;
using System.Text;

namespace PdM.ModelPackage.Signing;

/// <summary>
/// Signs a package digest with ECDSA P-256 / SHA-256. What is signed is the UTF-8 text
/// <c>"pdm-model-package-signature/1\n" + digest</c> (the digest as lower-case hex), so a signature made for a package
/// can never be replayed as a signature of anything else. The signature is IEEE P1363 (r ‖ s, 64 bytes), base64.
/// </summary>
public sealed class PackageSigner : IDisposable
{
    internal const string Domain = "pdm-model-package-signature/1\n";

    private readonly ECDsa _key;

    private PackageSigner(ECDsa key, string keyId)
    {
        _key = key;
        KeyId = keyId;
    }

    /// <summary>SHA-256 of the public key (SubjectPublicKeyInfo DER), first 16 hex characters.</summary>
    public string KeyId { get; }

    /// <summary>Reads a PEM private key (PKCS#8 or SEC1 "EC PRIVATE KEY"); refuses any curve but P-256.</summary>
    public static PackageSigner FromPrivateKeyPem(string pem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pem);
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (key.KeySize != 256)
            {
                throw new CryptographicException($"the signing key is a {key.KeySize}-bit EC key; ECDSA P-256 is required");
            }

            return new PackageSigner(key, PackageKeys.KeyId(key));
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>A fresh P-256 key (development and tests).</summary>
    public static PackageSigner Generate() => FromKey(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    private static PackageSigner FromKey(ECDsa key) => new(key, PackageKeys.KeyId(key));

    /// <summary>The PKCS#8 PEM of the private key, to persist a generated development key.</summary>
    public string ExportPrivateKeyPem() => _key.ExportPkcs8PrivateKeyPem();

    /// <summary>The SubjectPublicKeyInfo PEM that gateways are configured with.</summary>
    public string ExportPublicKeyPem() => _key.ExportSubjectPublicKeyInfoPem();

    /// <summary>Base64 signature over the package digest (64 lower-case hex characters).</summary>
    public string Sign(string packageDigest)
    {
        if (!PackageKeys.IsDigest(packageDigest))
        {
            throw new ArgumentException("a package digest is 64 lower-case hex characters", nameof(packageDigest));
        }

        return Convert.ToBase64String(_key.SignData(Encoding.UTF8.GetBytes(Domain + packageDigest), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    public void Dispose() => _key.Dispose();
}

internal static class PackageKeys
{
    public static string KeyId(ECDsa key) => Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];

    public static bool IsDigest(string? digest)
    {
        if (digest is null || digest.Length != 64)
        {
            return false;
        }

        foreach (var c in digest)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }
}
