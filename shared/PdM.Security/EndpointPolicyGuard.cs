using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace PdM.Security;

/// <summary>
/// Refuses to start a host with an HTTP endpoint that names no authorization policy and is not explicitly
/// anonymous, so "every endpoint has an explicit policy" cannot silently stop being true when someone maps a new one.
/// Call <see cref="EndpointPolicyGuardExtensions.UsePdMEndpointPolicyGuard"/> once every endpoint is mapped (before
/// start); as a hosted service it checks again once the server has built its pipeline, before the host reports started.
/// </summary>
public sealed class EndpointPolicyGuard(IServiceProvider services) : IHostedLifecycleService
{
    /// <summary>Route pattern and method of each endpoint without authorization metadata, e.g. <c>GET /api/things</c>.</summary>
    public static IReadOnlyList<string> FindUnprotected(IEnumerable<Endpoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var unprotected = new List<string>();
        foreach (var endpoint in endpoints)
        {
            if (endpoint is not RouteEndpoint route)
            {
                continue;
            }

            var metadata = route.Metadata;
            if (metadata.GetMetadata<IAllowAnonymous>() is not null || metadata.GetMetadata<IAuthorizeData>() is not null || metadata.GetMetadata<AuthorizationPolicy>() is not null)
            {
                continue;
            }

            unprotected.Add(Describe(route));
        }

        return unprotected;
    }

    public static string Describe(RouteEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
        return $"{(methods is { Count: > 0 } ? string.Join(",", methods) : "ANY")} /{endpoint.RoutePattern.RawText?.TrimStart('/')}";
    }

    /// <summary>Throws, naming every endpoint of <paramref name="endpoints"/> without authorization metadata.</summary>
    public static void Verify(IEnumerable<Endpoint> endpoints)
    {
        var unprotected = FindUnprotected(endpoints);
        if (unprotected.Count > 0)
        {
            throw new InvalidOperationException(
                $"{unprotected.Count} HTTP endpoint(s) have no authorization policy: {string.Join("; ", unprotected)}. " +
                "Give each .RequireAuthorization(PdMPolicies.…) or, if it is public by nature, .AllowAnonymous() (docs/security.md).");
        }
    }

    // The composite endpoint source is filled only when the server builds its pipeline, so this backstop runs after
    // that; UsePdMEndpointPolicyGuard checks the mapped endpoints before anything listens.
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        Verify(services.GetRequiredService<EndpointDataSource>().Endpoints);
        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public static class EndpointPolicyGuardExtensions
{
    /// <summary>
    /// Call after every endpoint is mapped and before start: throws, naming each endpoint that has neither a policy
    /// nor <c>AllowAnonymous</c>, so such a host never listens.
    /// </summary>
    public static TApp UsePdMEndpointPolicyGuard<TApp>(this TApp app)
        where TApp : IEndpointRouteBuilder
    {
        ArgumentNullException.ThrowIfNull(app);
        EndpointPolicyGuard.Verify(app.DataSources.SelectMany(d => d.Endpoints));
        return app;
    }
}
