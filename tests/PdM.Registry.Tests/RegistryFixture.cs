using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using PdM.Contracts.Registry;
using PdM.ModelPackage.Signing;
using PdM.Registry.Api;
using PdM.Registry.Identity;
using PdM.Registry.Persistence;
using PdM.Testing;

namespace PdM.Registry.Tests;

[CollectionDefinition(Name)]
public sealed class RegistrySuite : ICollectionFixture<RegistryFixture>
{
    public const string Name = "registry";
}

/// <summary>
/// One Registry host for the suite: a fresh PostgreSQL database, its own RabbitMQ vhost, an artifact folder and a
/// signing key of its own; Production environment, callers identified by bearer tokens from the test host's issuer.
/// Every test pushes models under its own name.
/// </summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly string _artifacts = Path.Combine(Path.GetTempPath(), "pdm-registry-test-" + Guid.NewGuid().ToString("N"));
    private ModuleTestHost? _host;

    /// <summary>Acts as an admin.</summary>
    public HttpClient Api { get; private set; } = null!;

    /// <summary>Sends no token.</summary>
    public HttpClient Anonymous { get; private set; } = null!;

    public ModuleTestHost Host => _host!;

    public LogCapture Logs { get; } = new();

    /// <summary>What a gateway (and the audit) receive from the registry over RabbitMQ.</summary>
    public BusMessages Events { get; } = new();

    public string PublicKeyPem { get; private set; } = null!;

    public IBus Bus => _host!.Services.GetRequiredService<IBus>();

    public static JsonSerializerOptions Json => ApiJson;

    public async Task InitializeAsync()
    {
        using var signer = PackageSigner.Generate();
        PublicKeyPem = signer.ExportPublicKeyPem();

        var settings = new Dictionary<string, string?>
        {
            ["Registry:ArtifactsPath"] = _artifacts,
            ["Registry:StateDirectory"] = _artifacts + "-state",
            ["Registry:Signing:PrivateKeyPem"] = signer.ExportPrivateKeyPem(),
            ["Registry:OutboxPollInterval"] = "00:00:00.200",
            ["Registry:PromotionGates:MinComparedRows"] = "100",
            ["Registry:PromotionGates:MinAgreementRatio"] = "0.9",
            ["Registry:PromotionGates:MaxCandidateFailureRatio"] = "0.05",
        };
        _host = await ModuleTestHost.StartAsync(RegistryModule.Descriptor, await ModuleTestBackend.CreateAsync("registry"), settings, Logs, environment: "Production",
            configure: builder => builder.Services.AddSingleton(Events),
            consumers: bus => bus.Collect<ModelVersionRegistered>().Collect<ModelPromoted>().Collect<ModelDeploymentRequested>());
        Api = _host.Api;
        Anonymous = _host.CreateClientWithToken(null);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        foreach (var directory in new[] { _artifacts, _artifacts + "-state" })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>The request, carrying a bearer token for <paramref name="user"/> with <paramref name="roles"/>.</summary>
    public HttpRequestMessage As(HttpRequestMessage request, string user, params string[] roles)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _host!.Token(user, roles));
        return request;
    }

    public Task<HttpResponseMessage> Push(string name, byte[] model, byte[] manifest, string user = "alice", params string[] roles) =>
        Api.SendAsync(As(new HttpRequestMessage(HttpMethod.Post, $"/api/models/{name}/versions") { Content = TestPackages.Form(model, manifest) },
            user, roles.Length == 0 ? [RegistryRoles.DataScientist] : roles));

    public Task<HttpResponseMessage> Promote(string name, string version, PromotionRequest body, string user, params string[] roles) =>
        Api.SendAsync(As(new HttpRequestMessage(HttpMethod.Post, $"/api/models/{name}/versions/{version}/promote") { Content = JsonContent.Create(body, options: ApiJson) },
            user, roles));

    /// <summary>A gateway's shadow report for a candidate, and the wait until the registry counts it.</summary>
    /// <summary>A gateway of <paramref name="site"/> reports shadow statistics of the version (the gate counts them per site).</summary>
    public async Task ReportShadow(string name, string version, string site, long compared, long agreed, long failed = 0)
    {
        var before = (await Version(name, version)).Shadow!.Reports;
        var candidate = await Version(name, version);
        await Bus.Publish(new PdM.Contracts.Models.ShadowEvaluationReported
        {
            EventId = Guid.NewGuid(), GatewayId = "gw-" + site, SiteId = site, AssetClass = candidate.AssetClass,
            ProductionModelName = name, ProductionModelVersion = "0", CandidateModelName = name, CandidateModelVersion = version,
            CandidateModelDigest = candidate.PackageDigest, ComparedRows = compared, AgreedRows = agreed,
            AgreementRatio = compared == 0 ? 0 : (double)agreed / compared, CandidateFailedRows = failed,
            ProductionMeanBatchLatencyMs = 0.1, CandidateMeanBatchLatencyMs = 0.1, CandidateMaxBatchLatencyMs = 0.2,
            PeriodStart = DateTimeOffset.UtcNow.AddHours(-1), PeriodEnd = DateTimeOffset.UtcNow, OccurredAt = DateTimeOffset.UtcNow,
        });
        await Eventually.Until(() => Version(name, version), v => v.Shadow!.Reports > before, TimeSpan.FromSeconds(30), $"the shadow report of {name}@{version}");
    }

    public async Task<ModelVersionResponse> Version(string name, string version) =>
        (await Api.GetFromJsonAsync<ModelVersionResponse>($"/api/models/{name}/versions/{version}", ApiJson))!;
}
