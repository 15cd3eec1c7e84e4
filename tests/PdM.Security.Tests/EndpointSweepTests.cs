using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PdM.Security;
using Xunit.Abstractions;

namespace PdM.Security.Tests;

/// <summary>
/// Every HTTP endpoint of the composed host that names a policy, called with no token, an expired token and a token
/// whose roles the policy does not admit: 401, 401, 403 — and with an admin token, neither (so the refusals above are
/// the access control's, not a broken route's).
/// </summary>
[Collection(SecuritySuite.Name)]
public sealed partial class EndpointSweepTests(SecurityFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Every_endpoint_with_a_policy_refuses_a_missing_an_expired_and_a_wrong_role_token()
    {
        var endpoints = Swept();
        Assert.NotEmpty(endpoints);
        // The APIs the issue names must be among them: a sweep that found nothing of these swept the wrong host.
        var names = endpoints.Select(e => e.Name).ToList();
        foreach (var expected in new[]
        {
            "POST /api/models/{name}/versions", "POST /api/models/{name}/versions/{version}/promote", "GET /api/artifacts/{sha256}",
            "GET /api/work-orders/", "POST /api/cases/{id:guid}/outcome", "GET /api/audit/verify", "GET /api/lineage/work-orders/{id:guid}",
            "POST /api/training/runs/", "PUT /api/feature-store/specs/{name}",
        })
        {
            Assert.Contains(expected, names);
        }

        var failures = new List<string>();
        using var client = new HttpClient { BaseAddress = fixture.Address };
        var expired = fixture.Tokens.Issue("sweep-expired", [PdMRoles.Admin], lifetime: TimeSpan.FromMinutes(5), notBefore: DateTimeOffset.UtcNow.AddHours(-2));
        var admin = fixture.Token("sweep-admin", PdMRoles.Admin);
        foreach (var endpoint in endpoints)
        {
            if (endpoint.Policy is null || !PdMPolicies.Roles.ContainsKey(endpoint.Policy))
            {
                failures.Add($"{endpoint.Name}: authorization without a named PdM policy ('{endpoint.Policy ?? "(default)"}')");
                continue;
            }

            var allowed = PdMPolicies.RolesFor(endpoint.Policy);
            var wrongRole = PdMRoles.All.FirstOrDefault(r => !allowed.Contains(r));
            if (wrongRole is null)
            {
                failures.Add($"{endpoint.Name}: policy {endpoint.Policy} admits every role");
                continue;
            }

            await Expect(client, endpoint, null, HttpStatusCode.Unauthorized, "no token", failures);
            await Expect(client, endpoint, expired, HttpStatusCode.Unauthorized, "expired token", failures);
            await Expect(client, endpoint, fixture.Token("sweep-" + wrongRole, wrongRole), HttpStatusCode.Forbidden, $"role {wrongRole} (policy {endpoint.Policy})", failures);

            using var response = await Send(client, endpoint, admin);
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                failures.Add($"{endpoint.Name} with an admin token: {(int)response.StatusCode}, expected the endpoint itself to answer");
            }
        }

        output.WriteLine($"swept {endpoints.Count} endpoints:\n" + string.Join("\n", endpoints.Select(e => $"{e.Name} [{e.Policy}]")));
        Assert.True(failures.Count == 0, $"{failures.Count} failure(s) over {endpoints.Count} endpoints:\n" + string.Join("\n", failures));
    }

    [Fact]
    public void Every_mapped_endpoint_names_a_policy_or_is_explicitly_anonymous() =>
        Assert.Empty(EndpointPolicyGuard.FindUnprotected(fixture.Services.GetRequiredService<EndpointDataSource>().Endpoints));

    /// <summary>Every (method, route pattern) the host maps behind authorization: what the OpenAPI document must describe.</summary>
    internal static IEnumerable<(string Method, string Pattern)> ProtectedEndpoints(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null && e.Metadata.GetMetadata<IAuthorizeData>() is not null)
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [HttpMethods.Get])
                .Select(method => (method, "/" + e.RoutePattern.RawText!.TrimStart('/'))));

    private List<SweptEndpoint> Swept()
    {
        var swept = new List<SweptEndpoint>();
        foreach (var endpoint in fixture.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null || endpoint.Metadata.GetMetadata<IAuthorizeData>() is null)
            {
                continue;
            }

            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).OfType<string>().Distinct().ToList();
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [HttpMethods.Get])
            {
                var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
                swept.Add(new SweptEndpoint($"{method} {pattern}", method, Fill(pattern), policies.Count == 1 ? policies[0] : null));
            }
        }

        return swept;
    }

    /// <summary>Route parameters filled with syntactically valid values, so routing reaches the endpoint and only access control can refuse.</summary>
    internal static string Fill(string pattern) => RouteParameter().Replace(pattern, match =>
    {
        var name = match.Groups["name"].Value;
        var constraints = match.Groups["constraints"].Value;
        if (constraints.Contains(":guid", StringComparison.Ordinal))
        {
            return Guid.NewGuid().ToString();
        }

        if (constraints.Contains(":int", StringComparison.Ordinal) || constraints.Contains(":long", StringComparison.Ordinal))
        {
            return "1";
        }

        return name switch
        {
            "sha256" => new string('a', 64),
            "version" => "1.0.0",
            _ => "sweep-" + name.ToLowerInvariant(),
        };
    });

    private static async Task Expect(HttpClient client, SweptEndpoint endpoint, string? token, HttpStatusCode expected, string what, List<string> failures)
    {
        using var response = await Send(client, endpoint, token);
        if (response.StatusCode != expected)
        {
            failures.Add($"{endpoint.Name} with {what}: {(int)response.StatusCode}, expected {(int)expected}");
        }
    }

    private static Task<HttpResponseMessage> Send(HttpClient client, SweptEndpoint endpoint, string? token)
    {
        var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), endpoint.Path);
        if (endpoint.Method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return SendAndDispose(client, request);
    }

    private static async Task<HttpResponseMessage> SendAndDispose(HttpClient client, HttpRequestMessage request)
    {
        using (request)
        {
            return await client.SendAsync(request);
        }
    }

    [GeneratedRegex(@"\{\**(?<name>[A-Za-z0-9_]+)(?<constraints>[^}]*)\}")]
    private static partial Regex RouteParameter();

    private sealed record SweptEndpoint(string Name, string Method, string Path, string? Policy);
}
