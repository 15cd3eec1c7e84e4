using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using PdM.Authentication;
using PdM.Contracts.Registry;
using PdM.Registry.Api;
using PdM.Registry.Tests;
using PdM.Security;
using PdM.Testing;

namespace PdM.Security.Tests;

/// <summary>The rules finer than a policy, through real tokens: four eyes, a gateway's own site, a token's signature.</summary>
[Collection(SecuritySuite.Name)]
public sealed class AccessRuleTests(SecurityFixture fixture)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    [Fact]
    public async Task The_uploader_cannot_approve_their_own_model_even_holding_the_approver_role()
    {
        var name = TestPackages.UniqueName("eyes");
        var alice = fixture.CreateClient("alice", PdMRoles.DataScientist, PdMRoles.Approver);
        await Push(alice, name);

        using var own = await alice.PostAsJsonAsync($"/api/models/{name}/versions/1.0.0/promote",
            new PromotionRequest { Stage = ModelStage.Production, SiteIds = ["plant-a"] }, Json);

        Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
        Assert.Equal("four_eyes", (await own.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reason").GetString());
        // A second person can (an admin, who also waives the first model's shadow evidence at the site, audited).
        using var second = await fixture.CreateClient("bob", PdMRoles.Approver, PdMRoles.Admin).PostAsJsonAsync($"/api/models/{name}/versions/1.0.0/promote",
            new PromotionRequest { Stage = ModelStage.Production, SiteIds = ["plant-a"], ShadowOverrideReason = "first model at plant-a in this test" }, Json);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("bob", (await second.Content.ReadFromJsonAsync<ModelVersionResponse>(Json))!.ApprovedBy);
    }

    [Fact]
    public async Task A_gateway_downloads_only_artifacts_deployed_at_its_own_site()
    {
        var name = TestPackages.UniqueName("site");
        var data = fixture.CreateClient("dana", PdMRoles.DataScientist);
        var version = await Push(data, name);
        (await data.PostAsJsonAsync($"/api/models/{name}/versions/1.0.0/promote",
            new PromotionRequest { Stage = ModelStage.Shadow, SiteIds = ["site-b"] }, Json)).EnsureSuccessStatusCode();
        var artifact = new Uri(version.ArtifactUrl).PathAndQuery;

        using var siteA = await Client(fixture.Tokens.Issue("gw-a", [PdMRoles.Gateway], site: "site-a")).GetAsync(artifact);
        using var noSite = await Client(fixture.Tokens.Issue("gw-x", [PdMRoles.Gateway])).GetAsync(artifact);
        using var siteB = await Client(fixture.Tokens.Issue("gw-b", [PdMRoles.Gateway], site: "site-b")).GetAsync(artifact);

        Assert.Equal(HttpStatusCode.Forbidden, siteA.StatusCode);
        Assert.Equal("not_deployed_at_site", (await siteA.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, noSite.StatusCode);
        Assert.Equal("site_required", (await noSite.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.OK, siteB.StatusCode);
        Assert.Equal(version.ArtifactBytes, (await siteB.Content.ReadAsByteArrayAsync()).LongLength);
    }

    [Fact]
    public async Task A_token_signed_by_another_key_is_refused_even_with_the_right_issuer_and_roles()
    {
        using var forger = new DevelopmentTokenIssuer(ECDsa.Create(ECCurve.NamedCurves.nistP256), TimeProvider.System, TestTokenIssuer.IssuerName);
        var forged = forger.Issue("mallory", [PdMRoles.Admin]);

        using var response = await Client(forged).GetAsync("/api/models");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Api.GetAsync("/api/models")).StatusCode);
    }

    [Fact]
    public async Task A_policy_refusal_names_the_roles_that_would_do()
    {
        using var response = await fixture.CreateClient("pat", PdMRoles.Planner).GetAsync("/api/audit/verify");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("role_required", problem.GetProperty("reason").GetString());
        Assert.Contains("approver", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("'pat' has: planner", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Outside_development_there_is_no_development_token_endpoint() =>
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Api.PostAsJsonAsync(AuthenticationExtensions.DevelopmentTokenPath,
            new { user = "eve", roles = new[] { PdMRoles.Admin } })).StatusCode);

    private HttpClient Client(string token) => fixture.CreateClientWithToken(token);

    private static async Task<ModelVersionResponse> Push(HttpClient client, string name)
    {
        var (model, manifest) = TestPackages.Load("logreg_failure", name);
        using var response = await client.PostAsync($"/api/models/{name}/versions", TestPackages.Form(model, manifest));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ModelVersionResponse>(Json))!;
    }
}
