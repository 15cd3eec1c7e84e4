using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using PdM.Authentication;
using PdM.Security;
using PdM.Testing;
using Xunit.Abstractions;

namespace PdM.Security.Tests;

/// <summary>
/// The composed host's OpenAPI document (<c>/openapi/v1.json</c>) describes every mapped API endpoint with the bearer
/// scheme and the roles each needs; walking it, every protected operation refuses a missing token, a wrong role, an
/// unsigned (<c>alg: none</c>) token, a wrong audience, a wrong issuer, an expired token and a key-confusion token
/// (HS256 keyed with the issuer's public key), and admits an admin (so the refusals are access control, not routing).
/// </summary>
[Collection(SecuritySuite.Name)]
public sealed class OpenApiProbeTests(SecurityFixture fixture, ITestOutputHelper output)
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    [Fact]
    public async Task The_document_names_the_bearer_scheme_and_the_roles_of_every_operation_of_the_swept_endpoints()
    {
        var document = await Document();
        var scheme = document["components"]!["securitySchemes"]![PdMOpenApi.BearerScheme]!;
        Assert.Equal("http", scheme["type"]!.GetValue<string>());
        Assert.Equal("bearer", scheme["scheme"]!.GetValue<string>());

        var operations = Operations(document).ToList();
        var protectedOperations = operations.Where(o => o.Policy is not null).ToList();
        foreach (var operation in protectedOperations)
        {
            Assert.Equal(PdMPolicies.RolesFor(operation.Policy!).Order(StringComparer.Ordinal), operation.Roles.Order(StringComparer.Ordinal));
        }

        // Every endpoint the host maps with a policy is in the document: nothing protected is left out of the walk.
        var documented = protectedOperations.Select(o => o.Method + " " + Normalize(o.Template)).ToHashSet(StringComparer.Ordinal);
        var mapped = EndpointSweepTests.ProtectedEndpoints(fixture.Services).Select(e => e.Method + " " + Normalize(e.Pattern)).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(mapped.Except(documented));
        Assert.Contains(protectedOperations, o => o.Template == "/api/models/{name}/versions/{version}/promote" && o.Roles.Contains(PdMRoles.Approver));
        output.WriteLine($"{operations.Count} operations, {protectedOperations.Count} protected");
    }

    [Fact]
    public async Task Every_protected_operation_refuses_every_forged_or_misaddressed_token()
    {
        var operations = Operations(await Document()).Where(o => o.Policy is not null).ToList();
        Assert.NotEmpty(operations);

        var tokens = fixture.Tokens;
        var attacks = new (string What, string? Token, HttpStatusCode Expected)[]
        {
            ("no token", null, HttpStatusCode.Unauthorized),
            ("alg: none", Unsigned(TestTokenIssuer.IssuerName, DevelopmentTokenIssuer.AudienceName), HttpStatusCode.Unauthorized),
            ("wrong audience", tokens.IssueVariant(audience: "not-pdm"), HttpStatusCode.Unauthorized),
            ("wrong issuer", tokens.IssueVariant(issuer: "pdm-evil"), HttpStatusCode.Unauthorized),
            ("expired", tokens.Issue("probe", [PdMRoles.Admin], lifetime: TimeSpan.FromMinutes(5), notBefore: DateTimeOffset.UtcNow.AddHours(-2)), HttpStatusCode.Unauthorized),
            ("HS256 keyed with the public key", KeyConfusion(tokens.PublicKeyPem), HttpStatusCode.Unauthorized),
        };
        var admin = fixture.Token("probe-admin", PdMRoles.Admin);
        var failures = new List<string>();
        using var client = new HttpClient { BaseAddress = fixture.Address };
        foreach (var operation in operations)
        {
            foreach (var (what, token, expected) in attacks)
            {
                await Expect(client, operation, token, expected, what, failures);
            }

            var wrongRole = PdMRoles.All.First(r => !operation.Roles.Contains(r));
            await Expect(client, operation, fixture.Token("probe-" + wrongRole, wrongRole), HttpStatusCode.Forbidden, "role " + wrongRole, failures);

            using var response = await Send(client, operation, admin);
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                failures.Add($"{operation.Name} with an admin token: {(int)response.StatusCode}, expected the endpoint itself to answer");
            }
        }

        output.WriteLine($"probed {operations.Count} operations x {attacks.Length + 2} tokens");
        Assert.True(failures.Count == 0, $"{failures.Count} failure(s):\n" + string.Join("\n", failures));
    }

    private async Task<JsonNode> Document()
    {
        using var client = new HttpClient { BaseAddress = fixture.Address };
        // Anonymous: the document describes the API and grants nothing.
        using var response = await client.GetAsync(new Uri(PdMOpenApi.DocumentPath, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static IEnumerable<Operation> Operations(JsonNode document)
    {
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var method in Methods)
            {
                if (item![method] is not { } operation)
                {
                    continue;
                }

                var policy = operation[PdMOpenApi.PolicyExtension]?.GetValue<string>();
                var roles = operation["security"]?.AsArray().SelectMany(r => r!.AsObject()).Where(r => r.Key == PdMOpenApi.BearerScheme)
                    .SelectMany(r => r.Value!.AsArray().Select(v => v!.GetValue<string>())).ToList() ?? [];
                yield return new Operation(method.ToUpperInvariant() + " " + path, method.ToUpperInvariant(), Fill(path, operation), policy, roles);
            }
        }
    }

    /// <summary>
    /// The path with each parameter filled by a value its schema admits (a uuid for <c>format: uuid</c>, a number for an
    /// integer), so routing reaches the operation and only access control can refuse.
    /// </summary>
    private static string Fill(string path, JsonNode operation)
    {
        var filled = EndpointSweepTests.Fill(path);
        foreach (var parameter in operation["parameters"]?.AsArray() ?? [])
        {
            if (parameter?["in"]?.GetValue<string>() != "path")
            {
                continue;
            }

            var name = parameter["name"]!.GetValue<string>();
            var schema = parameter["schema"];
            var value = schema?["format"]?.GetValue<string>() == "uuid" ? Guid.NewGuid().ToString()
                : schema?["type"]?.ToJsonString().Contains("integer", StringComparison.Ordinal) == true ? "1"
                : null;
            if (value is not null)
            {
                filled = filled.Replace("sweep-" + name.ToLowerInvariant(), value, StringComparison.Ordinal);
            }
        }

        return filled;
    }

    /// <summary>Route parameter names and constraints differ between the document and the route pattern: compare shapes.</summary>
    private static string Normalize(string path) =>
        System.Text.RegularExpressions.Regex.Replace("/" + path.Trim('/'), @"\{[^}]*\}", "{}");

    private static async Task Expect(HttpClient client, Operation operation, string? token, HttpStatusCode expected, string what, List<string> failures)
    {
        using var response = await Send(client, operation, token);
        if (response.StatusCode != expected)
        {
            failures.Add($"{operation.Name} with {what}: {(int)response.StatusCode}, expected {(int)expected}");
        }
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, Operation operation, string? token)
    {
        using var request = new HttpRequestMessage(new HttpMethod(operation.Method), operation.Path);
        if (operation.Method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await client.SendAsync(request);
    }

    private static Dictionary<string, object> AdminClaims(string issuer, string audience)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["iss"] = issuer, ["aud"] = audience, ["sub"] = "mallory", ["roles"] = new[] { PdMRoles.Admin },
            ["iat"] = now, ["nbf"] = now, ["exp"] = now + 600,
        };
    }

    /// <summary>A well-formed admin token with <c>alg: none</c> and no signature.</summary>
    private static string Unsigned(string issuer, string audience) =>
        Segment(new { alg = "none", typ = "JWT" }) + "." + Segment(AdminClaims(issuer, audience)) + ".";

    /// <summary>
    /// The classic key-confusion forgery: an admin token claiming HS256, HMAC-keyed with the issuer's public key (which
    /// anyone can read). A validator that let the token choose its algorithm would accept it.
    /// </summary>
    private static string KeyConfusion(string publicKeyPem)
    {
        var unsigned = Segment(new { alg = "HS256", typ = "JWT" }) + "." + Segment(AdminClaims(TestTokenIssuer.IssuerName, DevelopmentTokenIssuer.AudienceName));
        var signature = HMACSHA256.HashData(Encoding.ASCII.GetBytes(publicKeyPem), Encoding.ASCII.GetBytes(unsigned));
        return unsigned + "." + Base64UrlEncoder.Encode(signature);
    }

    private static string Segment(object value) => Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(value));

    /// <param name="Path">Filled with values its parameters admit; <paramref name="Name"/> keeps the template.</param>
    private sealed record Operation(string Name, string Method, string Path, string? Policy, List<string> Roles)
    {
        public string Template => Name[(Method.Length + 1)..];
    }
}
