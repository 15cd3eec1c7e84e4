using System.Globalization;
using System.Text.Json;
using PdM.Testing;
using Xunit.Abstractions;

namespace PdM.Infra.Tests;

/// <summary>
/// docker-compose.yml's PdM containers run for real, each program with compose's environment (its servers replaced by
/// the local PostgreSQL, RabbitMQ and Mosquitto, its volumes and secrets by temporary files): the plant side (the
/// gateway as the container runs it, with the file compose mounts as its appsettings.json, and the simulator), and the
/// cloud side (migrate, then one PdM.Host per module container). Rendering the file never showed that the gateway
/// shipped without an asset model and refused to start ("AssetModel:Assets is empty"), nor that a container named a
/// module PdM.Host does not know.
/// </summary>
public sealed class ComposedTopologyTests
{
    private const string GatewaySettingsTarget = "/app/gateway/appsettings.json";

    private static readonly Dictionary<string, Func<Site, string?>> GatewayOverrides = new(OnLocalMosquitto("Gateway"), StringComparer.Ordinal)
    {
        ["Messaging:RabbitMq:Uri"] = s => s.RabbitMq.ToString(),
        // The container's volumes and secrets (registry key, access token) and its collector.
        ["Journal:Path"] = s => Path.Combine(s.Folder, "data", "journal.db"),
        ["Inference:ModelStorePath"] = s => Path.Combine(s.Folder, "data", "models"),
        ["Gateway:Deployment:TrustedPublicKeyPaths:0"] = _ => null,
        ["Gateway:Deployment:RegistryAccessTokenFile"] = _ => null,
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _ => null,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = _ => null,
        ["OTEL_SERVICE_NAME"] = _ => null,
    };

    private static readonly Dictionary<string, Func<Site, string?>> SimulatorOverrides = OnLocalMosquitto("Simulator");

    private static readonly Dictionary<string, Func<Cloud, string?>> CloudOverrides = new(StringComparer.Ordinal)
    {
        ["ConnectionStrings:Postgres"] = c => c.Postgres,
        ["Messaging:RabbitMq:Uri"] = c => c.RabbitMq.ToString(),
        ["Registry:Signing:PrivateKeyPath"] = c => c.SigningKey,
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _ => null,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = _ => null,
        // Auth:Authority (the bundled Keycloak) stays: a host reads the issuer's metadata on the first token, not at start.
    };

    private readonly ITestOutputHelper _output;

    public ComposedTopologyTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task The_composed_gateway_starts_on_its_mounted_site_settings_accepts_every_reading_of_the_composed_simulator_and_decides()
    {
        var services = (await DockerComposeTests.RenderedCompose).GetProperty("services");
        var gatewayService = services.GetProperty("gateway");
        var simulatorService = services.GetProperty("simulator");
        Assert.Equal(
            Environment(gatewayService)["Gateway:SiteId"],
            Environment(simulatorService)["Simulator:SiteId"]);

        // The site is renamed for this run (both sides alike): the local broker is shared with other tests.
        var folder = Directory.CreateTempSubdirectory("pdm-composed-gateway-").FullName;
        var site = new Site(LocalDependencies.UniqueName("plant"), LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("composed")), folder);
        try
        {
            // The container's /app/gateway: the gateway's build output, and compose's file as its appsettings.json.
            var app = Path.Combine(folder, "app", "gateway");
            CopyDirectory(LocalDependencies.BuildOutput("edge", "PdM.Edge.Gateway"), app);
            File.Copy(MountedSource(gatewayService, GatewaySettingsTarget), Path.Combine(app, "appsettings.json"));

            using var gateway = ChildProcess.Start(
                Path.Combine(app, "PdM.Edge.Gateway.dll"),
                [.. Arguments(gatewayService, GatewayOverrides, site), "--Urls=http://127.0.0.1:0"],
                "Connected to MQTT broker");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await gateway.WaitReadyAsync();
            _output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: gateway connected");
            var metrics = new Uri(gateway.HttpAddress + "/metrics");

            using var simulator = ChildProcess.Start(
                LocalDependencies.ProgramDll("edge", "PdM.Edge.Simulator"),
                Arguments(simulatorService, SimulatorOverrides, site),
                "publishing site");
            await simulator.WaitReadyAsync();
            _output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: simulator publishing");

            using var http = new HttpClient();
            GatewayCounters seen;
            try
            {
                seen = await Eventually.Until(
                    async () => Counters(await http.GetStringAsync(metrics)),
                    // A round of decisions: the four pumps decide together each time their windows close.
                    c => c.Accepted >= 80 && c.Decisions >= 4,
                    TimeSpan.FromSeconds(60),
                    "the gateway's /metrics to count readings accepted and decisions");
            }
            catch (TimeoutException)
            {
                _output.WriteLine(string.Join('\n', gateway.Output.TakeLast(40)));
                throw;
            }

            _output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: accepted {seen.Accepted} readings, rejected {seen.Rejected}, {seen.Decisions} decisions");

            // Every reading the simulator sends fits the shipped asset model: none is rejected.
            Assert.Equal(0, seen.Rejected);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The site renamed for this run, and compose's Mosquitto as the local one: its plain listener takes no password
    /// (the TLS one would).
    /// </summary>
    private static Dictionary<string, Func<Site, string?>> OnLocalMosquitto(string section) => new(StringComparer.Ordinal)
    {
        [$"{section}:SiteId"] = s => s.Id,
        [$"{section}:Mqtt:Host"] = _ => LocalDependencies.MqttHost,
        [$"{section}:Mqtt:Port"] = _ => LocalDependencies.MqttPort.ToString(CultureInfo.InvariantCulture),
        [$"{section}:Mqtt:Username"] = _ => null,
        [$"{section}:Mqtt:Password"] = _ => null,
    };

    [Fact]
    public async Task The_composed_migrate_succeeds_and_every_composed_module_container_becomes_ready()
    {
        var services = (await DockerComposeTests.RenderedCompose).GetProperty("services");
        var folder = Directory.CreateTempSubdirectory("pdm-composed-cloud-").FullName;
        await using var database = await TestDatabase.CreateAsync("composed");
        var cloud = new Cloud(database.ConnectionString, LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("composed")), folder);
        var host = LocalDependencies.ProgramDll("services", "PdM.Host");
        var hosts = new List<ChildProcess>();
        try
        {
            // What the operator creates in PDM_SECRETS_DIR (docker-compose.yml's header): the registry's signing key.
            using (var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256))
            {
                await File.WriteAllTextAsync(cloud.SigningKey, key.ExportPkcs8PrivateKeyPem());
            }

            // migrate runs to its end first (the modules' depends_on: service_completed_successfully).
            var migrateService = services.GetProperty("migrate");
            string[] command = [.. migrateService.GetProperty("command").EnumerateArray().Select(a => a.GetString()!)];
            var migrate = await ProcessRunner.RunAsync("dotnet", [host, .. command, .. Arguments(migrateService, CloudOverrides, cloud)]);
            _output.WriteLine(migrate.StandardOutput);
            Assert.True(migrate.ExitCode == 0, "the composed migrate failed:\n" + migrate);

            // Then every module container, as compose starts them: side by side.
            var modules = services.EnumerateObject()
                .Where(s => s.Name != "migrate" && s.Value.TryGetProperty("environment", out var e) && e.TryGetProperty("PdM__Modules", out _))
                .ToArray();
            Assert.NotEmpty(modules);
            foreach (var module in modules)
            {
                hosts.Add(ChildProcess.Start(host, [.. Arguments(module.Value, CloudOverrides, cloud), "--Urls=http://127.0.0.1:0"], "PdM bus ready"));
            }

            using var http = new HttpClient();
            foreach (var (module, process) in modules.Zip(hosts))
            {
                await process.WaitReadyAsync();
                var ready = await http.GetAsync(process.HttpAddress + "/health/ready");
                _output.WriteLine($"{module.Name}: {process.Output.First(l => l.StartsWith("PdM host up", StringComparison.Ordinal))}; /health/ready {(int)ready.StatusCode}");
                Assert.True(ready.IsSuccessStatusCode, $"{module.Name}: /health/ready {(int)ready.StatusCode}: {await ready.Content.ReadAsStringAsync()}");
            }
        }
        finally
        {
            hosts.ForEach(h => h.Dispose());
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The service's environment as configuration keys (<c>A__B</c> is <c>A:B</c>).</summary>
    private static Dictionary<string, string> Environment(JsonElement service) =>
        service.GetProperty("environment").EnumerateObject()
            .ToDictionary(e => e.Name.Replace("__", ":", StringComparison.Ordinal), e => e.Value.ToString(), StringComparer.Ordinal);

    /// <summary>
    /// Compose's environment as command-line settings: every key as compose sets it, but those <paramref name="overrides"/>
    /// name (a null drops the key). A key compose adds later reaches the process unchanged.
    /// </summary>
    private static List<string> Arguments<TContext>(JsonElement service, Dictionary<string, Func<TContext, string?>> overrides, TContext site)
    {
        var arguments = new List<string>();
        foreach (var (key, value) in Environment(service))
        {
            var setting = overrides.TryGetValue(key, out var replace) ? replace(site) : value;
            if (setting is not null)
            {
                arguments.Add($"--{key}={setting}");
            }
        }

        return arguments;
    }

    /// <summary>The host file compose mounts at <paramref name="target"/> (docker-compose 1.29 renders short volume strings).</summary>
    private static string MountedSource(JsonElement service, string target)
    {
        var mount = service.GetProperty("volumes").EnumerateArray()
            .Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()!.Split(':') : [v.GetProperty("source").GetString()!, v.GetProperty("target").GetString()!])
            .SingleOrDefault(parts => parts.Length >= 2 && parts[1] == target);
        Assert.True(mount is not null, $"docker-compose.yml mounts nothing at {target} in the gateway");
        Assert.True(File.Exists(mount[0]), $"{mount[0]}, mounted at {target}, does not exist");
        return mount[0];
    }

    private static GatewayCounters Counters(string exposition)
    {
        double Sum(string metric) => exposition.Split('\n')
            .Where(line => line.StartsWith(metric, StringComparison.Ordinal) && (line.Length == metric.Length || line[metric.Length] is '{' or ' '))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        return new GatewayCounters(Sum("pdm_ingest_accepted_total"), Sum("pdm_ingest_rejected_total"), Sum("pdm_decisions_total"));
    }

    private static void CopyDirectory(string from, string to)
    {
        Assert.True(Directory.Exists(from), $"{from} is missing: build the solution (make build) first");
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private sealed record Site(string Id, Uri RabbitMq, string Folder);

    private sealed record Cloud(string Postgres, Uri RabbitMq, string Folder)
    {
        public string SigningKey => Path.Combine(Folder, "registry-signing.pem");
    }

    private sealed record GatewayCounters(double Accepted, double Rejected, double Decisions);
}
