using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PdM.Cmms.Stubs;

/// <summary>A webhook delivery the receiver accepted: the raw body and the signature header.</summary>
public sealed record WebhookDelivery(string Body, string Signature, string? IdempotencyKey, DateTimeOffset ReceivedAt);

public sealed class WebhookTenant(string secret)
{
    private int _requests;

    public string Secret { get; set; } = secret;

    public StubFaults Faults { get; } = new();

    public ConcurrentQueue<WebhookDelivery> Deliveries { get; } = new();

    public int Requests => Volatile.Read(ref _requests);

    internal void CountRequest() => Interlocked.Increment(ref _requests);
}

/// <summary>
/// A webhook receiver that checks <c>X-PdM-Signature: t=…,v1=…</c> (HMAC-SHA256 over "t.body" with the shared secret,
/// timestamp within 5 minutes) and answers 401 on a bad signature, as a careful receiver does.
/// </summary>
public sealed partial class WebhookStub(IOptions<CmmsStubOptions> options, ILogger<WebhookStub> logger)
{
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, WebhookTenant> _tenants = new(StringComparer.OrdinalIgnoreCase);

    public WebhookTenant Tenant(string name = CmmsStubOptions.DefaultTenant) => _tenants.GetOrAdd(name, _ => new WebhookTenant(options.Value.WebhookSecret));

    internal void Map(IEndpointRouteBuilder endpoints, string prefix)
    {
        endpoints.MapPost(prefix + "/webhook", Receive);
    }

    /// <summary>Verifies a signature header against a body; exposed so tests and receivers share one implementation.</summary>
    public static bool Verify(string secret, string header, string body, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(header);
        string? t = null;
        string? v1 = null;
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.StartsWith("t=", StringComparison.Ordinal))
            {
                t = part[2..];
            }
            else if (part.StartsWith("v1=", StringComparison.Ordinal))
            {
                v1 = part[3..];
            }
        }

        if (t is null || v1 is null || !long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var unix)
            || (now - DateTimeOffset.FromUnixTimeSeconds(unix)).Duration() > Tolerance)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        byte[] given;
        try
        {
            given = Convert.FromHexString(v1);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    private async Task Receive(HttpContext context)
    {
        var tenant = Tenant(StubJson.Tenant(context));
        tenant.CountRequest();
        switch (tenant.Faults.Take(isWrite: false)?.Kind)
        {
            case StubFaultKind.TooManyRequests:
                context.Response.Headers.RetryAfter = "1";
                context.Response.StatusCode = 429;
                return;
            case StubFaultKind.ServiceUnavailable:
                context.Response.StatusCode = 503;
                return;
            default:
                break;
        }

        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var signature = context.Request.Headers["X-PdM-Signature"].ToString();
        if (!Verify(tenant.Secret, signature, body, DateTimeOffset.UtcNow))
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsync("invalid or missing X-PdM-Signature", context.RequestAborted);
            return;
        }

        var key = context.Request.Headers["Idempotency-Key"].ToString();
        tenant.Deliveries.Enqueue(new WebhookDelivery(body, signature, key, DateTimeOffset.UtcNow));
        LogReceived(logger, key);

        if (StubFaults.DropAfterAccept(context, tenant.Faults.Take(isWrite: true)))
        {
            return;
        }

        context.Response.StatusCode = 202;
    }

    [LoggerMessage(EventId = 9201, Level = LogLevel.Information, Message = "Webhook stub: received work order {ExternalKey}")]
    private static partial void LogReceived(ILogger logger, string externalKey);
}
