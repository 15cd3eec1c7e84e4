using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using PdM.Security;

namespace PdM.Authentication;

/// <summary>
/// Mints ES256 access tokens for local use (Development, the Demo, the <c>pdm token</c> command, tests): issuer
/// <c>pdm-dev</c>, audience <c>pdm</c>, claims <c>sub</c>, <c>name</c>, <c>roles</c> (one per role) and <c>site</c>.
/// Anyone who can call it can be anyone, which is why it is allowed only in Development and Demo.
/// </summary>
public sealed class DevelopmentTokenIssuer : IDisposable
{
    public const string IssuerName = "pdm-dev";
    public const string AudienceName = "pdm";

    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(1);

    private readonly ECDsa _key;
    private readonly ECDsa _publicKey;
    private readonly TimeProvider _clock;
    private readonly SigningCredentials _credentials;
    private readonly JsonWebTokenHandler _handler = new();

    /// <param name="key">An ECDSA P-256 private key; the issuer owns it from here on.</param>
    public DevelopmentTokenIssuer(ECDsa key, TimeProvider clock, string issuer = IssuerName, string audience = AudienceName)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentException.ThrowIfNullOrWhiteSpace(issuer);
        ArgumentException.ThrowIfNullOrWhiteSpace(audience);
        if (key.KeySize != 256)
        {
            throw new ArgumentException($"the token key must be ECDSA P-256, not a {key.KeySize}-bit curve", nameof(key));
        }

        _key = key;
        _clock = clock;
        Issuer = issuer;
        Audience = audience;
        _publicKey = ECDsa.Create(key.ExportParameters(includePrivateParameters: false));
        var keyId = Base64UrlEncoder.Encode(SHA256.HashData(_publicKey.ExportSubjectPublicKeyInfo())[..12]);
        ValidationKey = new ECDsaSecurityKey(_publicKey) { KeyId = keyId };
        _credentials = new SigningCredentials(new ECDsaSecurityKey(key) { KeyId = keyId }, SecurityAlgorithms.EcdsaSha256);
        PublicKeyPem = _publicKey.ExportSubjectPublicKeyInfoPem();
    }

    public string Issuer { get; }

    public string Audience { get; }

    /// <summary>The public key tokens are validated with.</summary>
    public SecurityKey ValidationKey { get; }

    public string PublicKeyPem { get; }

    /// <summary>Loads the key at <paramref name="path"/>, generating it on first use (several processes may race: the first file wins).</summary>
    public static DevelopmentTokenIssuer FromKeyFile(string path, TimeProvider clock)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            using var generated = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var temporary = full + "." + Guid.NewGuid().ToString("N") + ".tmp";
            File.WriteAllText(temporary, generated.ExportPkcs8PrivateKeyPem());
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            try
            {
                File.Move(temporary, full, overwrite: false);
            }
            catch (IOException) when (File.Exists(full))
            {
                File.Delete(temporary);
            }
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(full));
            return new DevelopmentTokenIssuer(key, clock);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new InvalidOperationException($"Auth:DevelopmentIssuer:KeyPath '{full}' does not hold an ECDSA P-256 private key in PEM: {e.Message}", e);
        }
    }

    /// <summary>A signed access token; valid from <paramref name="notBefore"/> (default now) for <paramref name="lifetime"/> (default one hour).</summary>
    public string Issue(string user, IEnumerable<string> roles, string? site = null, TimeSpan? lifetime = null, DateTimeOffset? notBefore = null) =>
        IssueToken(user, roles, site, lifetime, notBefore).AccessToken;

    /// <summary>As <see cref="Issue"/>, with the expiry the token carries.</summary>
    public DevelopmentToken IssueToken(string user, IEnumerable<string> roles, string? site = null, TimeSpan? lifetime = null, DateTimeOffset? notBefore = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(user);
        ArgumentNullException.ThrowIfNull(roles);
        var from = notBefore ?? _clock.GetUtcNow();
        var duration = lifetime ?? DefaultLifetime;
        if (duration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), duration, "a token lifetime must be positive");
        }

        var expires = from + duration;
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [PdMClaims.Subject] = user,
            [PdMClaims.Name] = user,
            ["roles"] = roles.Distinct(StringComparer.Ordinal).ToArray(),
        };
        if (!string.IsNullOrWhiteSpace(site))
        {
            claims[PdMClaims.Site] = site;
        }

        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Claims = claims,
            IssuedAt = from.UtcDateTime,
            NotBefore = from.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = _credentials,
        });
        return new DevelopmentToken(token, expires);
    }

    public void Dispose()
    {
        _key.Dispose();
        _publicKey.Dispose();
    }
}

public sealed record DevelopmentToken(string AccessToken, DateTimeOffset ExpiresAt);
