using Microsoft.AspNetCore.Http;

namespace PdM.Registry.Api;

/// <summary>Problem-details responses that name their reason in a stable <c>reason</c> member (clients and the CLI branch on it).</summary>
internal static class RegistryProblems
{
    public static IResult Problem(int status, string reason, string title, string detail, IReadOnlyDictionary<string, object?>? extensions = null)
    {
        var all = new Dictionary<string, object?> { ["reason"] = reason };
        foreach (var (key, value) in extensions ?? new Dictionary<string, object?>())
        {
            all[key] = value;
        }

        return Results.Problem(detail: detail, statusCode: status, title: title, extensions: all);
    }

    public static IResult Unauthenticated() =>
        Problem(StatusCodes.Status401Unauthorized, "unauthenticated", "No caller identity", "the bearer token names no user (claim Auth:UserClaim, default sub)");

    public static IResult Forbidden(string reason, string detail) =>
        Problem(StatusCodes.Status403Forbidden, reason, "Not allowed", detail);

    public static IResult BadRequest(string reason, string detail) =>
        Problem(StatusCodes.Status400BadRequest, reason, "Bad request", detail);
}
