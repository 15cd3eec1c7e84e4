using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdM.Contracts.Models;
using PdM.Contracts.Registry;
using PdM.Edge.Inference;
using PdM.Messaging;
using PdM.ModelPackage.Signing;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// A standalone gateway (GatewayApplication, as Program.cs runs it) on the real RabbitMQ and Mosquitto with a model
/// store, trusting one registry key; a bus client on the same vhost that plays the registry (publishes
/// ModelDeploymentRequested, records what the gateway answers); and the artifact server the requests point at.
/// </summary>
public sealed class DeployingGateway : IAsyncDisposable
{
    public static readonly string[] Ai4iFeatures = ["air_temperature_k", "process_temperature_k", "rotational_speed_rpm", "torque_nm", "tool_wear_min"];

    private readonly IBusControl _registry;

    private DeployingGateway(string site, string storePath, Uri vhost, WebApplication app, IBusControl registry, ArtifactServer artifacts, PackageSigner signer, MetricRecorder metrics, LogCapture logs, ObservedEvents events)
    {
        Site = site;
        StorePath = storePath;
        Vhost = vhost;
        App = app;
        _registry = registry;
        Artifacts = artifacts;
        Signer = signer;
        Metrics = metrics;
        Logs = logs;
        Events = events;
    }

    public string Site { get; }

    public string StorePath { get; }

    public Uri Vhost { get; }

    public WebApplication App { get; private set; }

    public ArtifactServer Artifacts { get; }

    /// <summary>The registry's signing key; the gateway trusts its public key.</summary>
    public PackageSigner Signer { get; }

    public MetricRecorder Metrics { get; }

    public LogCapture Logs { get; }

    public ObservedEvents Events { get; }

    public ModelSlots Slots => App.Services.GetRequiredService<ModelSlots>();

    public static async Task<DeployingGateway> StartAsync()
    {
        var site = LocalDependencies.UniqueName("dep").Replace('_', '-');
        var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("gwdep"));
        var events = new ObservedEvents();
        var endpoint = RabbitMqEndpoint.Parse(vhost);
        var registry = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(endpoint.Host, endpoint.Port, endpoint.VirtualHost, h =>
            {
                h.Username(endpoint.Username);
                h.Password(endpoint.Password);
            });
            cfg.ReceiveEndpoint("test-registry", e =>
            {
                e.Handler<ModelDeploymentSucceeded>(context => events.Record(context.Message));
                e.Handler<ModelDeploymentFailed>(context => events.Record(context.Message));
                e.Handler<ShadowEvaluationReported>(context => events.Record(context.Message));
                e.Handler<ModelRolledBack>(context => events.Record(context.Message));
                e.Handler<ModelIntegrityViolation>(context => events.Record(context.Message));
            });
        });
        await registry.StartAsync();

        var artifacts = await ArtifactServer.StartAsync();
        var signer = PackageSigner.Generate();
        var root = Path.Combine(Path.GetTempPath(), "pdm-tests", site);
        var keyFile = Path.Combine(root, "registry-public.pem");
        Directory.CreateDirectory(root);
        await File.WriteAllTextAsync(keyFile, signer.ExportPublicKeyPem());
        var storePath = Path.Combine(root, "models");
        var metrics = new MetricRecorder(GatewayTelemetry.Name);
        var logs = new LogCapture();
        var app = await StartGatewayAsync(site, vhost, root, storePath, keyFile, logs);
        return new DeployingGateway(site, storePath, vhost, app, registry, artifacts, signer, metrics, logs, events);
    }

    /// <summary>Stops the gateway process and starts a new one on the same store, journal and queue.</summary>
    public async Task RestartAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        var root = Path.GetDirectoryName(StorePath)!;
        App = await StartGatewayAsync(Site, Vhost, root, StorePath, Path.Combine(root, "registry-public.pem"), Logs);
    }

    private static async Task<WebApplication> StartGatewayAsync(string site, Uri vhost, string root, string storePath, string keyFile, LogCapture logs)
    {
        var app = GatewayApplication.Build(
            [
                "--Urls=http://127.0.0.1:0",
                "--Messaging:Transport=RabbitMq",
                $"--Messaging:RabbitMq:Uri={vhost}",
                $"--Gateway:SiteId={site}",
                "--Gateway:Mqtt:Host=" + LocalDependencies.MqttHost,
                $"--Gateway:Mqtt:Port={LocalDependencies.MqttPort}",
                $"--Gateway:Mqtt:ClientId=gw-{site}",
                $"--Journal:Path={Path.Combine(root, "journal.db")}",
                .. TestGatewayArguments.Pumps(["PUMP-1"]),

                // Two mills computing the test packages' own AI4I spec: MILL-A reports every sensor it reads, MILL-B two.
                $"--Gateway:FeatureSpecs:{MillClass}={WriteMillSpec(root)}",
                .. MillAsset(1, "MILL-A", Ai4iFeatures),
                .. MillAsset(2, "MILL-B", ["air_temperature_k", "rotational_speed_rpm"]),
                $"--Inference:ModelStorePath={storePath}",
                "--Inference:MaxBatchWaitMs=0",
                "--Inference:ShadowReportIntervalSeconds=1",
                $"--Gateway:Deployment:TrustedPublicKeyPaths:0={keyFile}",
                "--Gateway:Deployment:RegistryAccessToken=gateway-test-token",
                "--Gateway:Deployment:RetryInitialDelaySeconds=0.05",
                "--Gateway:Deployment:RetryMaxDelaySeconds=0.2",
            ],
            builder => builder.Logging.AddProvider(logs));
        await app.StartAsync();

        // The host starts the bus in the background; a request published before the gateway's queue is bound to the
        // exchange would reach no queue (only on the very first start: the queue is durable afterwards).
        var health = await app.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60));
        Assert.Equal(BusHealthStatus.Healthy, health);
        return app;
    }

    /// <summary>The asset class whose assets (MILL-A with every AI4I sensor, MILL-B with two) compute the test packages' spec.</summary>
    public const string MillClass = "milling-machine";

    private static string WriteMillSpec(string root)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(LocalDependencies.RepositoryRoot, "tests", "models", "generated", "logreg_failure", "manifest.json")))!;
        var path = Path.Combine(root, "ai4i-spec.json");
        File.WriteAllText(path, manifest["featureSpec"]!.ToJsonString());
        return path;
    }

    private static IEnumerable<string> MillAsset(int index, string id, string[] sensors)
    {
        yield return $"--AssetModel:Assets:{index}:Id={id}";
        yield return $"--AssetModel:Assets:{index}:AssetClass={MillClass}";
        for (var s = 0; s < sensors.Length; s++)
        {
            yield return $"--AssetModel:Assets:{index}:Sensors:{s}:Id={sensors[s]}";
            yield return $"--AssetModel:Assets:{index}:Sensors:{s}:Unit=1";
            yield return $"--AssetModel:Assets:{index}:Sensors:{s}:ValidMin=0";
            yield return $"--AssetModel:Assets:{index}:Sensors:{s}:ValidMax=5000";
        }
    }

    /// <summary>A deployment request for <paramref name="package"/> served at <paramref name="url"/>, signed unless told otherwise.</summary>
    public ModelDeploymentRequested Request(TestPackage package, string url, ModelStage stage, string? signature = "sign", double? canaryShare = null, string? artifactSha256 = null) => new()
    {
        DeploymentId = Guid.NewGuid(),
        SiteIds = ["another-site", Site],
        ModelName = package.Name,
        ModelVersion = package.Version,
        AssetClass = package.AssetClass,
        Stage = stage,
        CanaryShare = canaryShare,
        ArtifactUrl = url,
        ArtifactSha256 = artifactSha256 ?? package.ArtifactSha256,
        PackageDigest = package.Digest,
        Signature = signature == "sign" ? Signer.Sign(package.Digest) : signature,
        SigningKeyId = signature == "sign" ? Signer.KeyId : null,
        RequestedBy = "approver@test",
        OccurredAt = DateTimeOffset.UtcNow,
    };

    public Task PublishAsync(ModelDeploymentRequested request) => _registry.Publish(request);

    /// <summary>Publishes the request and waits for the gateway's answer (Succeeded or Failed) for it.</summary>
    public async Task<object> DeployAsync(ModelDeploymentRequested request)
    {
        await PublishAsync(request);
        return await OutcomeAsync(request.DeploymentId);
    }

    public Task<object> OutcomeAsync(Guid deploymentId) =>
        Eventually.Until(
            () => Task.FromResult<object?>(
                (object?)Events.OfType<ModelDeploymentSucceeded>().FirstOrDefault(e => e.DeploymentId == deploymentId)
                ?? Events.OfType<ModelDeploymentFailed>().FirstOrDefault(e => e.DeploymentId == deploymentId)),
            e => e is not null,
            TimeSpan.FromSeconds(60),
            "the gateway's answer to deployment " + deploymentId).ContinueWith(t => t.Result!, TaskScheduler.Default);

    /// <summary>Deploys a signed production package and asserts it succeeded.</summary>
    public async Task<TestPackage> DeployProductionAsync(string folder, string assetClass, string version)
    {
        var package = TestPackage.Create(folder, assetClass, version);
        var outcome = await DeployAsync(Request(package, Artifacts.Add(package.Zip), ModelStage.Production));
        Assert.IsType<ModelDeploymentSucceeded>(outcome);
        return package;
    }

    /// <summary>One decision by the gateway's own decision policy, as the pipeline would ask for it.</summary>
    public ValueTask<Decision> DecideAsync(string assetClass, string assetId, float[]? features = null) =>
        App.Services.GetRequiredService<DecisionPolicy>().DecideAsync(new DecisionRequest
        {
            AssetId = assetId,
            AssetClass = assetClass,
            FeatureNames = Ai4iFeatures,
            FeatureValues = features ?? [298.1f, 308.6f, 1551f, 42.8f, 10f],
            WindowStart = DateTimeOffset.UtcNow.AddSeconds(-10),
            WindowEnd = DateTimeOffset.UtcNow,
        });

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        await _registry.StopAsync();
        await Artifacts.DisposeAsync();
        Signer.Dispose();
        Metrics.Dispose();
    }
}
