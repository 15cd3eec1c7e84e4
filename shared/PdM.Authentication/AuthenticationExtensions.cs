using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using PdM.Hosting;
using PdM.Security;

namespace PdM.Authentication;

/// <summary>
/// JWT bearer authentication for every PdM API: tokens from the configured OIDC authority, from the development
/// issuer where it is allowed, and from any static issuer; the <see cref="PdMPolicies"/>; the endpoint policy guard.
/// </summary>
public static class AuthenticationExtensions
{
    /// <summary>The default scheme: forwards each request to the scheme of its token's issuer.</summary>
    public const string Scheme = "PdM";

    public const string OidcScheme = "PdM.Oidc";
    public const string DevelopmentScheme = "PdM.Development";

    public const string DevelopmentTokenPath = "/api/auth/dev-token";

    // Thread-safe for reading; only peeks at the issuer to pick a scheme.
    private static readonly JsonWebTokenHandler s_tokenReader = new();

    public static TBuilder AddPdMAuthentication<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var environment = builder.Environment;
        var options = new PdMAuthOptions();
        builder.Configuration.GetSection(PdMAuthOptions.Section).Bind(options);
        builder.Services.AddOptionsValidatedBy<PdMAuthOptions>(PdMAuthOptions.Section, o => o.Validate(environment));
        builder.Services.TryAddSingleton(TimeProvider.System);

        var issuerSchemes = new Dictionary<string, string>(StringComparer.Ordinal);
        var authentication = builder.Services.AddAuthentication(Scheme);
        string? fallback = null;

        if (!string.IsNullOrWhiteSpace(options.Authority))
        {
            fallback = OidcScheme;
            authentication.AddJwtBearer(OidcScheme, jwt =>
            {
                jwt.Authority = options.Authority;
                jwt.Audience = options.Audience;
                jwt.RequireHttpsMetadata = options.RequireHttpsMetadata;
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = Parameters(options, options.RoleClaim);
                jwt.TokenValidationParameters.ValidAudience = options.Audience;
            });
        }

        if (options.DevelopmentIssuerEnabled(environment))
        {
            fallback ??= DevelopmentScheme;
            issuerSchemes[DevelopmentTokenIssuer.IssuerName] = DevelopmentScheme;
            var keyPath = DevelopmentKeyPath(options, environment);
            builder.Services.TryAddSingleton(services => DevelopmentTokenIssuer.FromKeyFile(keyPath, services.GetRequiredService<TimeProvider>()));
            builder.Services.TryAddSingleton(_ => new DevelopmentTokenRateLimit(Math.Max(1, options.DevelopmentIssuer.TokensPerMinute)));
            builder.Services.AddHostedService<DevelopmentIssuerNotice>();
            authentication.AddJwtBearer(DevelopmentScheme, jwt =>
            {
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = Parameters(options, "roles");
                jwt.TokenValidationParameters.ValidIssuer = DevelopmentTokenIssuer.IssuerName;
                jwt.TokenValidationParameters.ValidAudience = DevelopmentTokenIssuer.AudienceName;
                jwt.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256];
            });
            builder.Services.AddOptions<JwtBearerOptions>(DevelopmentScheme).Configure<DevelopmentTokenIssuer>((jwt, issuer) =>
                jwt.TokenValidationParameters.IssuerSigningKey = issuer.ValidationKey);
        }

        for (var i = 0; i < options.StaticIssuers.Count; i++)
        {
            var issuer = options.StaticIssuers[i];
            if (string.IsNullOrWhiteSpace(issuer.Issuer) || issuerSchemes.ContainsKey(issuer.Issuer))
            {
                continue; // reported by validation at start
            }

            var scheme = "PdM.Static." + issuer.Issuer;
            fallback ??= scheme;
            issuerSchemes[issuer.Issuer] = scheme;
            authentication.AddJwtBearer(scheme, jwt =>
            {
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = Parameters(options, options.RoleClaim);
                jwt.TokenValidationParameters.ValidIssuer = issuer.Issuer;
                jwt.TokenValidationParameters.ValidAudience = issuer.Audience;
                if (issuer.LoadPublicKeyPem() is { Pem: { } pem })
                {
                    jwt.TokenValidationParameters.IssuerSigningKey = PublicKey(pem);
                }
            });
        }

        // Not configured at all: validation fails the start with the reason; until then every token is refused.
        fallback ??= DevelopmentScheme;
        if (!issuerSchemes.ContainsValue(fallback) && fallback != OidcScheme)
        {
            authentication.AddJwtBearer(fallback, jwt => jwt.TokenValidationParameters = Parameters(options, options.RoleClaim));
        }

        authentication.AddPolicyScheme(Scheme, "PdM bearer token", policy =>
            policy.ForwardDefaultSelector = context => SchemeFor(context, issuerSchemes, fallback));

        builder.Services.AddPdMAuthorization(Scheme);
        return builder;
    }

    /// <summary>
    /// Maps <c>POST /api/auth/dev-token</c> where the development issuer is on; nothing otherwise. A host that calls
    /// <see cref="AddPdMAuthentication"/> calls this next to <c>MapPdMDefaultEndpoints</c> (which knows no tokens, so
    /// that the edge gateway can carry it without JwtBearer).
    /// </summary>
    public static IEndpointRouteBuilder MapPdMAuthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.ServiceProvider.GetService<DevelopmentTokenIssuer>() is null)
        {
            return endpoints;
        }

        endpoints.MapPost(DevelopmentTokenPath, (DevelopmentTokenRequest request, DevelopmentTokenIssuer issuer, DevelopmentTokenRateLimit limit, HttpContext context) =>
        {
            if (!limit.TryAcquire(context))
            {
                context.Response.Headers.RetryAfter = "60";
                return Results.Problem(detail: "too many development tokens from this address; try again in a minute",
                    statusCode: StatusCodes.Status429TooManyRequests, title: "Rate limited",
                    extensions: new Dictionary<string, object?> { ["reason"] = "rate_limited" });
            }

            if (request.Validate() is { } problem)
            {
                return Results.Problem(detail: problem, statusCode: StatusCodes.Status400BadRequest, title: "Bad token request",
                    extensions: new Dictionary<string, object?> { ["reason"] = "invalid_token_request" });
            }

            var token = issuer.IssueToken(request.User!, request.Roles ?? [], request.Site, TimeSpan.FromMinutes(request.LifetimeMinutes ?? 60));
            return Results.Ok(new DevelopmentTokenResponse(token.AccessToken, token.ExpiresAt, "Bearer"));
        }).AllowAnonymous().WithTags("Auth");
        return endpoints;
    }

    private static TokenValidationParameters Parameters(PdMAuthOptions options, string roleClaim) => new()
    {
        ValidateIssuer = true,
        ValidateAudience = true,
        ValidateLifetime = true,
        ValidateIssuerSigningKey = true,
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ClockSkew = options.ClockSkew,
        RoleClaimType = roleClaim,
        NameClaimType = options.UserClaim,
    };

    private static string SchemeFor(HttpContext context, Dictionary<string, string> issuerSchemes, string fallback)
    {
        var header = context.Request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        if (header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            var token = header[Bearer.Length..].Trim();
            // The issuer is read unvalidated only to pick the scheme; that scheme then validates everything, issuer included.
            if (s_tokenReader.CanReadToken(token) && issuerSchemes.TryGetValue(s_tokenReader.ReadJsonWebToken(token).Issuer, out var scheme))
            {
                return scheme;
            }
        }

        return fallback;
    }

    private static string DevelopmentKeyPath(PdMAuthOptions options, IHostEnvironment environment)
    {
        if (!string.IsNullOrWhiteSpace(options.DevelopmentIssuer.KeyPath))
        {
            return Path.GetFullPath(options.DevelopmentIssuer.KeyPath, environment.ContentRootPath);
        }

        var root = Environment.GetEnvironmentVariable("PDM_STATE_DIR");
        return string.IsNullOrWhiteSpace(root)
            ? Path.Combine(environment.ContentRootPath, ".state", "auth", "dev-issuer.pem")
            : Path.Combine(root, "auth", "dev-issuer.pem");
    }

    /// <summary>An ECDSA or RSA public key from PEM; <see cref="ArgumentException"/> when it is neither.</summary>
    internal static SecurityKey PublicKey(string pem)
    {
        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportFromPem(pem);
            return new ECDsaSecurityKey(ecdsa);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            ecdsa.Dispose();
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            throw new ArgumentException("the PEM holds neither an ECDSA nor an RSA public key", nameof(pem), e);
        }
    }
}

/// <summary>Body of <c>POST /api/auth/dev-token</c>.</summary>
public sealed record DevelopmentTokenRequest(string? User, IReadOnlyList<string>? Roles, string? Site, int? LifetimeMinutes)
{
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(User) || User.Length > 128)
        {
            return "user is required (1 to 128 characters)";
        }

        foreach (var role in Roles ?? [])
        {
            if (!PdMRoles.All.Contains(role))
            {
                return $"unknown role '{role}'; known: {string.Join(", ", PdMRoles.All)}";
            }
        }

        return LifetimeMinutes is < 1 or > 24 * 60 ? "lifetimeMinutes must be between 1 and 1440" : null;
    }
}

public sealed record DevelopmentTokenResponse(string AccessToken, DateTimeOffset ExpiresAt, string TokenType);

/// <summary>Loads (or creates) the development key at start, not at the first request, and says that the issuer is on.</summary>
internal sealed partial class DevelopmentIssuerNotice(DevelopmentTokenIssuer issuer, IHostEnvironment environment, ILogger<DevelopmentIssuerNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogDevelopmentIssuer(logger, environment.EnvironmentName, issuer.Issuer, AuthenticationExtensions.DevelopmentTokenPath);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 9101, Level = LogLevel.Warning, Message = "Development token issuer is ON (environment {Environment}): tokens from '{Issuer}' are accepted and anyone can mint one at POST {Path}. Never in production.")]
    private static partial void LogDevelopmentIssuer(ILogger logger, string environment, string issuer, string path);
}
