using System.Globalization;
using System.Net;
using System.Text.Json;

namespace PdM.Maintenance.Cmms;

/// <summary>Shared mapping of HTTP statuses and transport failures onto <see cref="CmmsResult"/>.</summary>
internal static class HttpResponses
{
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider clock)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - clock.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>
    /// The non-success cases every vendor shares; <paramref name="reason"/> is the vendor's own error text.
    /// <paramref name="creating"/>: the answer to a create, which a 502 or 504 leaves in doubt: a proxy in front of the
    /// CMMS stopped waiting, the CMMS behind it may still carry the create out.
    /// </summary>
    public static CmmsResult Failure(string system, HttpResponseMessage response, string reason, string credentialHint, TimeProvider clock, string? code = null,
        bool creating = false)
    {
        var httpCode = (int)response.StatusCode;
        var status = string.Create(CultureInfo.InvariantCulture, $"HTTP {httpCode}");
        return response.StatusCode switch
        {
            HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout when creating =>
                CmmsResult.Fail(CmmsOutcome.Transient, $"{system}'s gateway gave up on the create ({status}: {reason})") with { CreateInDoubt = true },
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                CmmsResult.Fail(CmmsOutcome.AuthenticationFailed, $"{system} refused our credentials ({status}: {reason}). Check {credentialHint}; delivery is parked, not retried.", code: code),
            HttpStatusCode.TooManyRequests =>
                CmmsResult.Fail(CmmsOutcome.RateLimited, $"{system} is rate limiting ({status}: {reason})", RetryAfter(response, clock)),
            HttpStatusCode.RequestTimeout =>
                CmmsResult.Fail(CmmsOutcome.Transient, $"{system} timed out ({status}: {reason})"),
            _ when httpCode >= 500 =>
                CmmsResult.Fail(CmmsOutcome.Transient, $"{system} is unavailable ({status}: {reason})", RetryAfter(response, clock)),
            _ => CmmsResult.Fail(CmmsOutcome.Rejected, $"{system} rejected the record ({status}: {reason})", code: code),
        };
    }

    /// <summary>
    /// A call that got no answer. <paramref name="creating"/>: it was a create, which is then in doubt, unless the
    /// connection was never made (refused, name not resolved, TLS failed): nothing reached the CMMS.
    /// </summary>
    public static CmmsResult Transport(string system, Exception exception, bool creating = false) =>
        CmmsResult.Fail(CmmsOutcome.Transient, $"{system} did not answer: {exception.GetType().Name}: {exception.Message}") with
        {
            CreateInDoubt = creating && exception is not HttpRequestException
            {
                HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError,
            },
        };

    public static bool IsTransport(Exception exception) =>
        exception is HttpRequestException or IOException or TaskCanceledException or TimeoutException;

    public static async Task<JsonElement?> JsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string? String(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            }
            : null;

    /// <summary>
    /// A link the CMMS returned (<c>Location</c>, an href, an entity URI), absolute or relative (RFC 9110 §10.2.2,
    /// RFC 3986 §5), resolved against the URI it is relative to: the request's URI for <c>Location</c>, the service root
    /// for links in a body.
    /// </summary>
    public static Uri Resolve(Uri against, string reference) => new(against, reference);

    /// <summary>A service root as a base URI: with a trailing slash, so relative links resolve below it, not beside it.</summary>
    public static Uri ServiceRoot(Uri baseUrl) =>
        baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");

    public static string Clip(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
