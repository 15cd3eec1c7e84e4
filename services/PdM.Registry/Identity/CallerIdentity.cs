using Microsoft.AspNetCore.Http;

namespace PdM.Registry.Identity;

/// <summary>Role names shared with the coming access control (JWT role claims use the same strings).</summary>
public static class RegistryRoles
{
    public const string DataScientist = "data-scientist";
    public const string Approver = "approver";
    public const string Admin = "admin";
}

/// <summary>Who is calling: a user name and their roles.</summary>
public sealed record Caller(string User, IReadOnlySet<string> Roles)
{
    public bool IsInRole(string role) => Roles.Contains(role) || Roles.Contains(RegistryRoles.Admin);
}

/// <summary>
/// Resolves the caller of a request. Until JWT bearer access control lands (issue 6, item 6), the implementation is
/// <see cref="HeaderCallerIdentity"/>; the JWT implementation will read the same user and roles from the token's claims,
/// and nothing that calls this abstraction changes.
/// </summary>
public interface ICallerIdentity
{
    /// <summary>The caller, or null when the request carries no identity this resolver accepts.</summary>
    Caller? Resolve(HttpContext context);

    /// <summary>Why <see cref="Resolve"/> returned null, for the 401 response.</summary>
    string MissingIdentityDetail { get; }
}

/// <summary>
/// Trusts <c>X-PdM-User</c> and <c>X-PdM-Roles</c> (comma-separated). INSECURE: any client can claim any identity.
/// Enabled by default only in Development; enabling it elsewhere logs a critical warning at every start.
/// </summary>
public sealed class HeaderCallerIdentity : ICallerIdentity
{
    public const string UserHeader = "X-PdM-User";
    public const string RolesHeader = "X-PdM-Roles";

    public string MissingIdentityDetail => $"the request has no {UserHeader} header (development identity; JWT bearer tokens replace it)";

    public Caller? Resolve(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var user = context.Request.Headers[UserHeader].ToString().Trim();
        if (user.Length is 0 or > 128)
        {
            return null;
        }

        var roles = new HashSet<string>(StringComparer.Ordinal);
        foreach (var role in context.Request.Headers[RolesHeader].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            roles.Add(role.ToLowerInvariant());
        }

        return new Caller(user, roles);
    }
}

/// <summary>No identity source is configured: every call that needs a caller is refused with 401.</summary>
public sealed class NoCallerIdentity : ICallerIdentity
{
    public string MissingIdentityDetail =>
        "no identity source is configured: outside Development set Registry:Identity:TrustCallerHeaders=true (insecure) until JWT access control is available";

    public Caller? Resolve(HttpContext context) => null;
}
