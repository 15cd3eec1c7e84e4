using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace PdM.Authentication;

/// <summary>
/// At most <c>Auth:DevelopmentIssuer:TokensPerMinute</c> tokens per client address from <c>POST /api/auth/dev-token</c>:
/// the endpoint is anonymous and mints any role, so even in Development and the Demo it must not become a way to flood
/// the host. Enforced in the endpoint itself, so no host can forget a middleware.
/// </summary>
public sealed class DevelopmentTokenRateLimit : IDisposable
{
    private readonly PartitionedRateLimiter<HttpContext> _limiter;

    public DevelopmentTokenRateLimit(int tokensPerMinute)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokensPerMinute, 1);
        _limiter = PartitionedRateLimiter.Create<HttpContext, string>(context => RateLimitPartition.GetFixedWindowLimiter(
            context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            _ => new FixedWindowRateLimiterOptions { PermitLimit = tokensPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
    }

    /// <summary>True when this request may have a token; false means answer 429.</summary>
    public bool TryAcquire(HttpContext context)
    {
        using var lease = _limiter.AttemptAcquire(context);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}
