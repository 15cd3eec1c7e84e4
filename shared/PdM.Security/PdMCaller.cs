using System.Security.Claims;

namespace PdM.Security;

/// <summary>Who is calling, from the validated token: the user (claim <c>Auth:UserClaim</c>), their roles and, for a gateway, its site.</summary>
public sealed record PdMCaller(string User, IReadOnlySet<string> Roles, string? Site)
{
    /// <summary>True when the caller has <paramref name="role"/> or is admin (admin satisfies every role).</summary>
    public bool IsInRole(string role) => Roles.Contains(role) || Roles.Contains(PdMRoles.Admin);

    /// <summary>True when the caller has <paramref name="role"/> itself, admin not counted.</summary>
    public bool HasOwnRole(string role) => Roles.Contains(role);
}

public static class PdMClaims
{
    public const string Subject = "sub";
    public const string Name = "name";
    public const string Site = "site";

    /// <summary>
    /// The caller of an authenticated request; null when the principal is not authenticated or carries no user claim
    /// (an endpoint behind a PdM policy never sees that: the policy answered 401 already).
    /// </summary>
    public static PdMCaller? ToPdMCaller(this ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (principal.Identity is not ClaimsIdentity { IsAuthenticated: true } identity)
        {
            return null;
        }

        // The scheme set NameClaimType to Auth:UserClaim; sub is the fallback every OIDC token carries.
        var user = identity.Name ?? principal.FindFirst(Subject)?.Value;
        if (string.IsNullOrWhiteSpace(user))
        {
            return null;
        }

        var roles = new HashSet<string>(StringComparer.Ordinal);
        foreach (var claim in identity.FindAll(identity.RoleClaimType))
        {
            roles.Add(claim.Value);
        }

        var site = principal.FindFirst(Site)?.Value;
        return new PdMCaller(user, roles, string.IsNullOrWhiteSpace(site) ? null : site);
    }
}
