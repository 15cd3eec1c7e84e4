using System.Security.Claims;
using PdM.Security;

namespace PdM.Registry.Identity;

/// <summary>The registry's role names: the platform's (<see cref="PdMRoles"/>), named here for the registry's rules.</summary>
public static class RegistryRoles
{
    public const string DataScientist = PdMRoles.DataScientist;
    public const string Approver = PdMRoles.Approver;
    public const string Gateway = PdMRoles.Gateway;
    public const string Admin = PdMRoles.Admin;
}

/// <summary>
/// Who is calling: the user recorded as uploader, promoter or approver (four eyes compares it) and their roles. From
/// the validated bearer token on HTTP; in-process callers (trained models) name their own.
/// </summary>
public sealed record Caller(string User, IReadOnlySet<string> Roles)
{
    public bool IsInRole(string role) => Roles.Contains(role) || Roles.Contains(RegistryRoles.Admin);

    /// <summary>The caller of an authenticated request, or null when the token names no user.</summary>
    public static Caller? From(ClaimsPrincipal principal) =>
        principal.ToPdMCaller() is { } caller ? new Caller(caller.User, caller.Roles) : null;
}
