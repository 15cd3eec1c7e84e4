using System.Net;
using System.Text.Json.Nodes;

namespace PdM.Cli;

/// <summary>One answer of the PdM API, or why there was none: an error is a value the command prints, never an exception.</summary>
public sealed record ApiResult(HttpStatusCode? Status, JsonNode? Body, string? RawBody, string? TransportError)
{
    public bool IsSuccess => Status is { } s && (int)s is >= 200 and < 300;

    /// <summary>The exit code this answer maps to (see <see cref="ExitCodes"/>).</summary>
    public int ExitCode => Status switch
    {
        null => ExitCodes.Unavailable,
        { } s when (int)s is >= 200 and < 300 => ExitCodes.Success,
        HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ExitCodes.NotAllowed,
        HttpStatusCode.NotFound => ExitCodes.NotFound,
        HttpStatusCode.BadRequest or HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity or HttpStatusCode.RequestEntityTooLarge => ExitCodes.Rejected,
        _ => ExitCodes.Unavailable,
    };

    /// <summary>One line for stderr: the problem's <c>reason</c> and <c>detail</c> when the server sent a problem document.</summary>
    public string ErrorLine()
    {
        if (TransportError is not null)
        {
            return TransportError;
        }

        var status = Status is { } s ? $"{(int)s} {s}" : "no answer";
        var reason = Text(Body, "reason") ?? Text(Body, "title");
        var detail = Text(Body, "detail");
        if (Status == HttpStatusCode.Unauthorized && reason is null)
        {
            reason = "not signed in or the token expired: run `pdm token` (development issuer) or set PDM_TOKEN";
        }

        if (Status == HttpStatusCode.Forbidden && reason is null)
        {
            reason = "your roles do not allow this";
        }

        return (reason, detail) switch
        {
            (null, null) when !string.IsNullOrWhiteSpace(RawBody) => $"{status}: {Truncate(RawBody)}",
            (null, null) => status,
            (_, null) => $"{status}: {reason}",
            (null, _) => $"{status}: {detail}",
            _ => $"{status}: {reason}: {detail}",
        };
    }

    internal static string? Text(JsonNode? node, string property) =>
        node is JsonObject o && o.TryGetPropertyValue(property, out var value) && value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string Truncate(string text) => text.Length <= 300 ? text.Trim() : string.Concat(text.AsSpan(0, 300), "…");
}
