using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using PdM.Contracts.Registry;
using PdM.ModelPackage;
using PdM.Registry.Api;
using PdM.Testing;

namespace PdM.Registry.Tests;

[Collection(RegistrySuite.Name)]
public sealed class ModelUploadTests(RegistryFixture fixture)
{
    [Theory]
    [InlineData("broken_golden_mismatch", "golden_vector_mismatch")]
    [InlineData("broken_custom_domain", "disallowed_domain")]
    [InlineData("broken_truncated", "model_unparseable")]
    [InlineData("broken_external_data", "external_data")]
    public async Task A_package_the_gateway_would_refuse_is_rejected_with_the_loaders_exact_reason(string package, string reason)
    {
        var name = TestPackages.UniqueName("bad");
        var (model, manifest) = TestPackages.Load(package, name);
        var expected = ModelPackageLoader.Load(TestPackages.PackagePath(package)).Rejection!;

        using var response = await fixture.Push(name, model, manifest);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(reason, problem.GetProperty("reason").GetString());
        Assert.Equal(expected.Code, reason);
        Assert.Contains(reason, problem.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.Equal(expected.Detail, problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Api.GetAsync($"/api/models/{name}/versions")).StatusCode);
    }

    [Fact]
    public async Task A_manifest_naming_another_model_a_duplicate_version_and_a_missing_file_are_refused()
    {
        var name = TestPackages.UniqueName("dup");
        var (model, manifest) = TestPackages.Load("logreg_failure", name);

        using var wrongName = await fixture.Push(name + "-other", model, manifest);
        Assert.Equal(HttpStatusCode.BadRequest, wrongName.StatusCode);
        Assert.Equal("name_mismatch", (await wrongName.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reason").GetString());

        using var first = await fixture.Push(name, model, manifest);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        using var again = await fixture.Push(name, model, manifest);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("version_exists", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reason").GetString());

        using var form = new MultipartFormDataContent { { new ByteArrayContent(manifest), "manifest", "manifest.json" } };
        using var request = fixture.As(new HttpRequestMessage(HttpMethod.Post, $"/api/models/{name}/versions") { Content = form }, "alice", "data-scientist");
        using var missing = await fixture.Api.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var problem = await missing.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("missing_entry", problem.GetProperty("reason").GetString());
        Assert.Contains("model.onnx", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pushing_needs_an_identity_and_the_data_scientist_role()
    {
        var name = TestPackages.UniqueName("auth");
        var (model, manifest) = TestPackages.Load("logreg_failure", name);

        using var anonymous = await fixture.Anonymous.PostAsync($"/api/models/{name}/versions", TestPackages.Form(model, manifest));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var planner = await fixture.Push(name, model, manifest, "pat", "planner");
        Assert.Equal(HttpStatusCode.Forbidden, planner.StatusCode);
        Assert.Equal("role_required", (await planner.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reason").GetString());
    }

    [Fact]
    public async Task An_accepted_version_is_listed_announced_and_its_artifact_served_with_etag_and_ranges()
    {
        var name = TestPackages.UniqueName("ok");
        var (model, manifest) = TestPackages.Load("logreg_failure", name, "2.1.0");

        using var created = await fixture.Push(name, model, manifest);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var version = (await created.Content.ReadFromJsonAsync<ModelVersionResponse>(RegistryFixture.Json))!;
        Assert.Equal(PackageDigest.Compute(model, manifest), version.PackageDigest);
        Assert.Equal("alice", version.UploadedBy);
        Assert.Equal(ModelStage.Candidate, version.HighestStage);
        Assert.Null(version.Signature);

        var listed = await fixture.Api.GetFromJsonAsync<List<ModelVersionResponse>>($"/api/models/{name}/versions", RegistryFixture.Json);
        Assert.Equal("2.1.0", Assert.Single(listed!).Version);
        var models = await fixture.Api.GetFromJsonAsync<List<ModelSummaryResponse>>("/api/models", RegistryFixture.Json);
        Assert.Equal(1, models!.Single(m => m.Name == name).Versions);
        var announced = await Eventually.Until(() => Task.FromResult(fixture.Events.Of<ModelVersionRegistered>().FirstOrDefault(e => e.ModelName == name)), e => e is not null,
            TimeSpan.FromSeconds(30), "ModelVersionRegistered on the bus");
        Assert.Equal(version.PackageDigest, announced!.PackageDigest);

        // The whole artifact: its SHA-256 is its address and its ETag.
        using var whole = await fixture.Api.GetAsync(new Uri(version.ArtifactUrl).PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        var bytes = await whole.Content.ReadAsByteArrayAsync();
        Assert.Equal(version.ArtifactSha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        Assert.Equal($"\"{version.ArtifactSha256}\"", whole.Headers.ETag?.Tag);
        Assert.Equal(version.ArtifactBytes, bytes.LongLength);

        // A resumed download: the second half only.
        using var rangeRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/artifacts/{version.ArtifactSha256}");
        rangeRequest.Headers.Range = new RangeHeaderValue(bytes.Length / 2, null);
        using var partial = await fixture.Api.SendAsync(rangeRequest);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(bytes.AsSpan(bytes.Length / 2).ToArray(), await partial.Content.ReadAsByteArrayAsync());

        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/api/artifacts/{version.ArtifactSha256}");
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{version.ArtifactSha256}\""));
        using var notModified = await fixture.Api.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Api.GetAsync($"/api/artifacts/{new string('0', 64)}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await fixture.Api.GetAsync("/api/artifacts/..%2F..%2Fetc")).StatusCode);
    }

    [Fact]
    public async Task The_former_identity_headers_grant_nothing_without_a_token()
    {
        var name = TestPackages.UniqueName("hdr");
        var (model, manifest) = TestPackages.Load("logreg_failure", name);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{name}/versions") { Content = TestPackages.Form(model, manifest) };
        request.Headers.Add("X-PdM-User", "mallory");
        request.Headers.Add("X-PdM-Roles", "data-scientist,approver,admin");

        using var response = await fixture.Anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Api.GetAsync($"/api/models/{name}/versions")).StatusCode);
    }
}
