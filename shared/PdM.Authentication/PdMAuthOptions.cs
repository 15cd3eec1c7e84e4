using System.Globalization;
using Microsoft.Extensions.Hosting;
using PdM.Security;

namespace PdM.Authentication;

/// <summary>Section <c>Auth</c>: which token issuers the APIs trust and how their claims are read.</summary>
public sealed class PdMAuthOptions
{
    public const string Section = "Auth";

    /// <summary>The OIDC issuer URL (its <c>/.well-known/openid-configuration</c> gives the signing keys), e.g. a Keycloak realm or Entra tenant.</summary>
    public string? Authority { get; set; }

    /// <summary>The audience tokens from <see cref="Authority"/> must carry. Required with an authority.</summary>
    public string? Audience { get; set; }

    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Tolerance on exp/nbf between the issuer's clock and ours.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The claim holding role names (one claim or a JSON array): <c>roles</c> for Entra app roles and a Keycloak mapper.</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>
    /// The claim naming the user recorded as uploader/approver (four eyes compares it). <c>sub</c> is stable and unique;
    /// <c>preferred_username</c> reads better in audit trails if the issuer guarantees it unique.
    /// </summary>
    public string UserClaim { get; set; } = PdMClaims.Subject;

    public DevelopmentIssuerOptions DevelopmentIssuer { get; set; } = new();

    /// <summary>
    /// Issuers trusted by a fixed public key instead of discovery (an internal issuer of gateway tokens, a test
    /// issuer). Each validates its own issuer name, audience and key; a token is routed to one by its <c>iss</c>.
    /// </summary>
    public List<StaticIssuerOptions> StaticIssuers { get; } = [];

    /// <summary>Development and Demo turn the development issuer on unless configured; nowhere else may it be on.</summary>
    public static bool IsDevelopmentLike(IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return environment.IsDevelopment() || environment.IsEnvironment("Demo");
    }

    public bool DevelopmentIssuerEnabled(IHostEnvironment environment) => DevelopmentIssuer.Enabled ?? IsDevelopmentLike(environment);

    /// <summary>Every problem with this configuration, each naming its key.</summary>
    public IReadOnlyList<string> Validate(IHostEnvironment environment)
    {
        var problems = new List<string>();
        var development = DevelopmentIssuerEnabled(environment);
        if (development && !IsDevelopmentLike(environment))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"DevelopmentIssuer:Enabled is true in environment '{environment.EnvironmentName}': the development issuer mints any role for anyone and is allowed only in Development or Demo. Configure Auth:Authority (OIDC) instead."));
        }

        if (DevelopmentIssuer.TokensPerMinute < 1)
        {
            problems.Add("DevelopmentIssuer:TokensPerMinute must be at least 1");
        }

        if (string.IsNullOrWhiteSpace(Authority) && !development && StaticIssuers.Count == 0)
        {
            problems.Add($"Authority is not set and the development issuer is off (environment '{environment.EnvironmentName}'): no token can be validated. Set Auth:Authority to your OIDC issuer URL and Auth:Audience (docs/security.md).");
        }

        if (!string.IsNullOrWhiteSpace(Authority))
        {
            if (!Uri.TryCreate(Authority, UriKind.Absolute, out var authority))
            {
                problems.Add($"Authority '{Authority}' is not an absolute URL");
            }
            else if (RequireHttpsMetadata && authority.Scheme != Uri.UriSchemeHttps)
            {
                problems.Add($"Authority '{Authority}' is not https while RequireHttpsMetadata is true");
            }

            if (string.IsNullOrWhiteSpace(Audience))
            {
                problems.Add("Audience is required with Auth:Authority (the API's client id or application ID URI)");
            }
        }

        if (ClockSkew < TimeSpan.Zero || ClockSkew > TimeSpan.FromMinutes(10))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"ClockSkew {ClockSkew} is outside 0..10 minutes"));
        }

        if (string.IsNullOrWhiteSpace(RoleClaim))
        {
            problems.Add("RoleClaim is empty");
        }

        if (string.IsNullOrWhiteSpace(UserClaim))
        {
            problems.Add("UserClaim is empty");
        }

        for (var i = 0; i < StaticIssuers.Count; i++)
        {
            var issuer = StaticIssuers[i];
            var key = string.Create(CultureInfo.InvariantCulture, $"StaticIssuers:{i}");
            if (string.IsNullOrWhiteSpace(issuer.Issuer))
            {
                problems.Add($"{key}:Issuer is required");
            }
            else if (issuer.Issuer == DevelopmentTokenIssuer.IssuerName)
            {
                problems.Add($"{key}:Issuer '{issuer.Issuer}' is the development issuer's name");
            }

            if (string.IsNullOrWhiteSpace(issuer.Audience))
            {
                problems.Add($"{key}:Audience is required");
            }

            var (pem, error) = issuer.LoadPublicKeyPem();
            if (error is not null)
            {
                problems.Add($"{key}: {error}");
            }
            else if (pem is not null)
            {
                try
                {
                    _ = AuthenticationExtensions.PublicKey(pem);
                }
                catch (ArgumentException e)
                {
                    problems.Add($"{key}: {e.Message}");
                }
            }
        }

        return problems;
    }
}

/// <summary>Section <c>Auth:DevelopmentIssuer</c>: a local token issuer for Development and the Demo (<c>POST /api/auth/dev-token</c>, <c>pdm token</c>).</summary>
public sealed class DevelopmentIssuerOptions
{
    /// <summary>Default: on in Development and Demo, off elsewhere. On elsewhere fails the start.</summary>
    public bool? Enabled { get; set; }

    /// <summary>ECDSA P-256 key (PEM), generated on first use and reused. Default: <c>$PDM_STATE_DIR/auth/dev-issuer.pem</c>, else <c>.state/auth/dev-issuer.pem</c> under the content root.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Tokens <c>POST /api/auth/dev-token</c> hands one client address per minute; more get 429.</summary>
    public int TokensPerMinute { get; set; } = 20;
}

/// <summary>One entry of <c>Auth:StaticIssuers</c>.</summary>
public sealed class StaticIssuerOptions
{
    public string? Issuer { get; set; }

    public string Audience { get; set; } = DevelopmentTokenIssuer.AudienceName;

    /// <summary>The issuer's ECDSA or RSA public key, PEM.</summary>
    public string? PublicKeyPem { get; set; }

    /// <summary>A file holding <see cref="PublicKeyPem"/>.</summary>
    public string? PublicKeyPath { get; set; }

    internal (string? Pem, string? Error) LoadPublicKeyPem()
    {
        if (!string.IsNullOrWhiteSpace(PublicKeyPem))
        {
            return (PublicKeyPem, null);
        }

        if (string.IsNullOrWhiteSpace(PublicKeyPath))
        {
            return (null, "PublicKeyPem or PublicKeyPath is required");
        }

        return File.Exists(PublicKeyPath) ? (File.ReadAllText(PublicKeyPath), null) : (null, $"PublicKeyPath '{PublicKeyPath}' does not exist");
    }
}
