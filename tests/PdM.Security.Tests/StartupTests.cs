using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using PdM.Authentication;
using PdM.Hosting;
using PdM.Security;
using PdM.Testing;

namespace PdM.Security.Tests;

/// <summary>What a host refuses to start with, and the development issuer where it is allowed.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task A_host_with_an_endpoint_lacking_a_policy_refuses_to_start_and_names_it()
    {
        var module = new PdMModule("Unguarded", _ => { }, _ => { }, endpoints =>
        {
            endpoints.MapGet("/api/guarded", () => "ok").RequireAuthorization(PdMPolicies.ModelsRead);
            endpoints.MapPost("/api/unguarded/{id}", (string id) => id);
        }, null);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ModuleTestHost.StartAsync(module, [], new LogCapture(), environment: "Production"));

        Assert.Contains("POST /api/unguarded/{id}", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("/api/guarded", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_that_never_calls_the_guard_is_still_stopped_before_it_reports_started()
    {
        var keyPath = Path.Combine(Path.GetTempPath(), "pdm-auth-" + Guid.NewGuid().ToString("N"), "dev-issuer.pem");
        try
        {
            var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartBare("Development", new() { ["Auth:DevelopmentIssuer:KeyPath"] = keyPath },
                endpoints => endpoints.MapDelete("/api/forgotten", () => "gone")));

            Assert.Contains("DELETE /api/forgotten", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(keyPath)!, recursive: true);
        }
    }

    [Fact]
    public async Task Without_an_authority_or_the_development_issuer_the_start_fails_naming_auth_authority()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => StartBare("Production", []));

        Assert.Contains("Auth:Authority", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_development_issuer_cannot_be_switched_on_in_production()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => StartBare("Production", new() { ["Auth:DevelopmentIssuer:Enabled"] = "true" }));

        Assert.Contains("DevelopmentIssuer:Enabled", failure.Message, StringComparison.Ordinal);
        Assert.Contains("'Production'", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_development_a_token_from_the_dev_token_endpoint_opens_what_its_roles_allow_and_no_more()
    {
        var keyPath = Path.Combine(Path.GetTempPath(), "pdm-auth-" + Guid.NewGuid().ToString("N"), "dev-issuer.pem");
        try
        {
            await using var app = await StartBare("Development", new() { ["Auth:DevelopmentIssuer:KeyPath"] = keyPath }, endpoints =>
                endpoints.MapGet("/api/models-probe", () => "models").RequireAuthorization(PdMPolicies.ModelsRead));
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

            using var issued = await client.PostAsJsonAsync(AuthenticationExtensions.DevelopmentTokenPath,
                new { user = "dana", roles = new[] { PdMRoles.Planner }, lifetimeMinutes = 5 });
            issued.EnsureSuccessStatusCode();
            var token = (await issued.Content.ReadFromJsonAsync<DevelopmentTokenResponse>())!;
            using var probe = new HttpRequestMessage(HttpMethod.Get, "/api/models-probe") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token.AccessToken) } };
            using var allowed = await client.SendAsync(probe);
            using var unknownRole = await client.PostAsJsonAsync(AuthenticationExtensions.DevelopmentTokenPath, new { user = "dana", roles = new[] { "root" } });

            Assert.Equal("Bearer", token.TokenType);
            Assert.InRange(token.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(4), DateTimeOffset.UtcNow.AddMinutes(6));
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, unknownRole.StatusCode);
            Assert.True(File.Exists(keyPath), "the development key is kept for the next start");
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(keyPath)!, recursive: true);
        }
    }

    [Fact]
    public async Task The_dev_token_endpoint_hands_one_address_only_so_many_tokens_a_minute()
    {
        var keyPath = Path.Combine(Path.GetTempPath(), "pdm-auth-" + Guid.NewGuid().ToString("N"), "dev-issuer.pem");
        try
        {
            await using var app = await StartBare("Development", new()
            {
                ["Auth:DevelopmentIssuer:KeyPath"] = keyPath,
                ["Auth:DevelopmentIssuer:TokensPerMinute"] = "3",
            });
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 4; i++)
            {
                using var response = await client.PostAsJsonAsync(AuthenticationExtensions.DevelopmentTokenPath, new { user = "flood", roles = new[] { PdMRoles.Admin } });
                statuses.Add(response.StatusCode);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Assert.Contains("rate_limited", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                    Assert.Equal("60", response.Headers.RetryAfter?.ToString());
                }
            }

            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(keyPath)!, recursive: true);
        }
    }

    [Fact]
    public async Task The_development_key_is_generated_once_and_reused_so_tokens_survive_a_restart()
    {
        var keyPath = Path.Combine(Path.GetTempPath(), "pdm-auth-" + Guid.NewGuid().ToString("N"), "dev-issuer.pem");
        try
        {
            using var first = DevelopmentTokenIssuer.FromKeyFile(keyPath, TimeProvider.System);
            using var second = DevelopmentTokenIssuer.FromKeyFile(keyPath, TimeProvider.System);

            Assert.Equal(first.PublicKeyPem, second.PublicKeyPem);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(keyPath)!, recursive: true);
        }
    }

    private static async Task<WebApplication> StartBare(string environment, Dictionary<string, string?> settings, Action<IEndpointRouteBuilder>? map = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddPdMAuthentication();
        var app = builder.Build();
        app.MapPdMAuthEndpoints();
        map?.Invoke(app);
        try
        {
            await app.StartAsync();
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }
}
