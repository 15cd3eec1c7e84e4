using System.Text.Json;
using System.Text.RegularExpressions;
using PdM.Host;
using PdM.Testing;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace PdM.Infra.Tests;

/// <summary>
/// infra/k8s is a kustomize base with overlays. Each overlay is rendered offline by the real kubectl (its built-in
/// kustomize) and the objects it would apply are checked: the workloads a platform team expects, all on the one image,
/// probed on the health endpoints, with resource requests, disruption budgets and a KEDA scaler per module, and no
/// secret written into a manifest.
/// </summary>
public sealed partial class KubernetesManifestTests
{
    private static readonly string K8sRoot = Path.Combine(LocalDependencies.RepositoryRoot, "infra", "k8s");

    public static TheoryData<string> Overlays
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var overlay in Directory.GetDirectories(Path.Combine(K8sRoot, "overlays")).Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetFileName(overlay));
            }

            return data;
        }
    }

    [Fact]
    public void There_is_a_development_and_a_production_overlay()
    {
        var overlays = Directory.GetDirectories(Path.Combine(K8sRoot, "overlays")).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(["dev", "production"], overlays);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Every_module_has_a_probed_Deployment_of_the_one_image_a_disruption_budget_and_a_queue_length_scaler(string overlay)
    {
        var objects = await RenderAsync(overlay);
        var deployments = Of(objects, "Deployment");
        var images = Workloads(objects).SelectMany(Containers).Select(c => c.GetProperty("image").GetString()).Distinct().ToList();
        var image = Assert.Single(images);
        Assert.Matches(":[A-Za-z0-9._-]+$", image);

        foreach (var module in ModuleCatalog.All)
        {
            var deployment = deployments.SingleOrDefault(d => Containers(d).Any(c => Env(c, "PdM__Modules") == module.Name));
            Assert.True(deployment.ValueKind == JsonValueKind.Object, $"{overlay}: no Deployment runs module {module.Name}");
            var name = Name(deployment);
            var labels = deployment.GetProperty("spec").GetProperty("selector").GetProperty("matchLabels");

            var budget = Of(objects, "PodDisruptionBudget").SingleOrDefault(p => SameLabels(p.GetProperty("spec").GetProperty("selector").GetProperty("matchLabels"), labels));
            Assert.True(budget.ValueKind == JsonValueKind.Object, $"{overlay}: no PodDisruptionBudget selects {name}");

            var scaler = Of(objects, "ScaledObject").SingleOrDefault(s => s.GetProperty("spec").GetProperty("scaleTargetRef").GetProperty("name").GetString() == name);
            Assert.True(scaler.ValueKind == JsonValueKind.Object, $"{overlay}: no KEDA ScaledObject scales {name}");
            var triggers = scaler.GetProperty("spec").GetProperty("triggers").EnumerateArray().ToList();
            Assert.NotEmpty(triggers);
            Assert.All(triggers, t =>
            {
                Assert.Equal("rabbitmq", t.GetProperty("type").GetString());
                Assert.Equal("QueueLength", t.GetProperty("metadata").GetProperty("mode").GetString());
                Assert.StartsWith(module.Name.ToLowerInvariant() + "-", t.GetProperty("metadata").GetProperty("queueName").GetString(), StringComparison.Ordinal);
                var auth = t.GetProperty("authenticationRef").GetProperty("name").GetString();
                Assert.Contains(Of(objects, "TriggerAuthentication"), a => Name(a) == auth);
            });
            Assert.True(Int(scaler.GetProperty("spec").GetProperty("minReplicaCount")) >= 1, $"{overlay}: {name} may scale to zero and miss its once-only work");
        }

        Assert.All(Workloads(objects).Where(w => w.GetProperty("kind").GetString() != "Job").SelectMany(Containers), c =>
        {
            Assert.Equal("/health/live", c.GetProperty("livenessProbe").GetProperty("httpGet").GetProperty("path").GetString());
            Assert.Equal("/health/ready", c.GetProperty("readinessProbe").GetProperty("httpGet").GetProperty("path").GetString());
        });
        Assert.All(Workloads(objects).SelectMany(Containers), c =>
        {
            var requests = c.GetProperty("resources").GetProperty("requests");
            Assert.True(requests.TryGetProperty("cpu", out _) && requests.TryGetProperty("memory", out _), $"{overlay}: a container without cpu and memory requests");
        });
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task The_gateway_is_a_StatefulSet_with_a_volume_for_its_journal_and_models_and_one_shard_per_replica(string overlay)
    {
        var objects = await RenderAsync(overlay);
        var gateway = Assert.Single(Of(objects, "StatefulSet"));
        var spec = gateway.GetProperty("spec");
        var claim = Assert.Single(spec.GetProperty("volumeClaimTemplates").EnumerateArray());
        var container = Assert.Single(Containers(gateway));
        var data = container.GetProperty("volumeMounts").EnumerateArray().Single(m => m.GetProperty("name").GetString() == Name(claim));
        Assert.Equal("/data", data.GetProperty("mountPath").GetString());
        Assert.StartsWith("/data/", Env(container, "Journal__Path"), StringComparison.Ordinal);
        Assert.StartsWith("/data/", Env(container, "Inference__ModelStorePath"), StringComparison.Ordinal);

        // Gateway:Sharding: as many shards as pods, each pod's own shard its ordinal.
        Assert.Equal(Int(spec.GetProperty("replicas")).ToString(System.Globalization.CultureInfo.InvariantCulture), Env(container, "Gateway__Sharding__Count"));
        var index = EnvEntry(container, "Gateway__Sharding__Index");
        Assert.Equal("metadata.labels['apps.kubernetes.io/pod-index']", index.GetProperty("valueFrom").GetProperty("fieldRef").GetProperty("fieldPath").GetString());
        Assert.Contains(Of(objects, "PodDisruptionBudget"), p => SameLabels(p.GetProperty("spec").GetProperty("selector").GetProperty("matchLabels"), spec.GetProperty("selector").GetProperty("matchLabels")));

        // The site's asset model (without one the gateway refuses to start) is its appsettings.json, from the very file
        // docker-compose mounts, whose gateway ComposedTopologyTests start and see deciding.
        var site = container.GetProperty("volumeMounts").EnumerateArray().Single(m => m.GetProperty("mountPath").GetString() == "/app/gateway/appsettings.json");
        var volume = spec.GetProperty("template").GetProperty("spec").GetProperty("volumes").EnumerateArray()
            .Single(v => v.GetProperty("name").GetString() == site.GetProperty("name").GetString());
        var configMap = Of(objects, "ConfigMap").Single(c => Name(c) == volume.GetProperty("configMap").GetProperty("name").GetString());
        var shipped = await File.ReadAllTextAsync(Path.Combine(K8sRoot, "base", "gateway-plant-a.appsettings.json"));
        Assert.Equal(shipped, configMap.GetProperty("data").GetProperty(site.GetProperty("subPath").GetString()!).GetString());
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task No_secret_is_written_into_a_manifest(string overlay)
    {
        var objects = await RenderAsync(overlay);
        Assert.DoesNotContain(objects, o => o.GetProperty("kind").GetString() == "Secret");
        foreach (var container in Workloads(objects).SelectMany(Containers))
        {
            foreach (var variable in container.TryGetProperty("env", out var env) ? env.EnumerateArray() : [])
            {
                var name = variable.GetProperty("name").GetString()!;
                if (SecretName().IsMatch(name) && !name.EndsWith("Path", StringComparison.Ordinal) && !name.EndsWith("File", StringComparison.Ordinal))
                {
                    Assert.False(variable.TryGetProperty("value", out _), $"{overlay}: {name} is written as a value; it must come from a Secret (secretKeyRef)");
                    Assert.True(variable.GetProperty("valueFrom").TryGetProperty("secretKeyRef", out _), $"{overlay}: {name} is not read from a Secret");
                }
            }
        }

        // Anywhere at all: no credentials in a URI, no password in a connection string.
        foreach (var text in objects.Select(o => o.GetRawText()))
        {
            Assert.DoesNotMatch("[a-z]+://[^/\\s\"@]+:[^/\\s\"@]+@", text);
            Assert.DoesNotMatch("(?i)password=", text);
        }
    }

    [GeneratedRegex("(?i)password|secret|token|uri|connectionstrings|privatekey")]
    private static partial Regex SecretName();

    private static async Task<List<JsonElement>> RenderAsync(string overlay)
    {
        var result = await ProcessRunner.RunAsync("kubectl", ["kustomize", Path.Combine(K8sRoot, "overlays", overlay)]);
        Assert.True(result.ExitCode == 0, $"kubectl kustomize {overlay} failed: {result}");
        var parser = new Parser(new StringReader(result.StandardOutput));
        var yaml = new DeserializerBuilder().Build();
        var json = new SerializerBuilder().JsonCompatible().Build();
        var objects = new List<JsonElement>();
        parser.Consume<StreamStart>();
        while (parser.Accept<DocumentStart>(out _))
        {
            var document = yaml.Deserialize(parser);
            if (document is not null)
            {
                objects.Add(JsonDocument.Parse(json.Serialize(document)).RootElement.Clone());
            }
        }

        Assert.NotEmpty(objects);
        return objects;
    }

    private static List<JsonElement> Of(IEnumerable<JsonElement> objects, string kind) => [.. objects.Where(o => o.GetProperty("kind").GetString() == kind)];

    private static IEnumerable<JsonElement> Workloads(IEnumerable<JsonElement> objects) =>
        objects.Where(o => o.GetProperty("kind").GetString() is "Deployment" or "StatefulSet" or "Job");

    private static IEnumerable<JsonElement> Containers(JsonElement workload) =>
        workload.GetProperty("spec").GetProperty("template").GetProperty("spec").GetProperty("containers").EnumerateArray();

    /// <summary>YAML scalars come through as strings: <c>2</c> and <c>"2"</c> alike.</summary>
    private static int Int(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? value.GetInt32() : int.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture);

    private static string Name(JsonElement o) => o.GetProperty("metadata").GetProperty("name").GetString()!;

    private static JsonElement EnvEntry(JsonElement container, string name) =>
        container.GetProperty("env").EnumerateArray().SingleOrDefault(e => e.GetProperty("name").GetString() == name);

    private static string? Env(JsonElement container, string name)
    {
        var entry = container.TryGetProperty("env", out _) ? EnvEntry(container, name) : default;
        return entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("value", out var value) ? value.GetString() : null;
    }

    private static bool SameLabels(JsonElement a, JsonElement b) =>
        a.EnumerateObject().Select(p => $"{p.Name}={p.Value}").Order(StringComparer.Ordinal)
            .SequenceEqual(b.EnumerateObject().Select(p => $"{p.Name}={p.Value}").Order(StringComparer.Ordinal));
}
