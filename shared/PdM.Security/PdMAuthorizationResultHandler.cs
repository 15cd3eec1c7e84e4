using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;

namespace PdM.Security;

/// <summary>
/// A policy's 403 says why, in the same problem shape the APIs use for their own refusals (<c>reason</c>
/// <c>role_required</c> and the roles that would do), so the CLI and a person reading a log know what to ask for.
/// 401 stays the bearer scheme's challenge (its WWW-Authenticate names the token problem, e.g. expired).
/// </summary>
internal sealed class PdMAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        var roles = policy.Requirements.OfType<RolesAuthorizationRequirement>().SelectMany(r => r.AllowedRoles).Distinct(StringComparer.Ordinal).ToList();
        var caller = context.User.ToPdMCaller();
        var detail = roles.Count == 0
            ? "the token does not satisfy this endpoint's policy"
            : $"this needs one of the roles {string.Join(", ", roles)}; '{caller?.User ?? "the caller"}' has: {(caller is null || caller.Roles.Count == 0 ? "none" : string.Join(", ", caller.Roles))}";
        await Results.Problem(detail: detail, statusCode: StatusCodes.Status403Forbidden, title: "Not allowed",
            extensions: new Dictionary<string, object?> { ["reason"] = "role_required" }).ExecuteAsync(context);
    }
}
