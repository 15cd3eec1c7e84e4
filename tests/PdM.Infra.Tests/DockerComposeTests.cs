using System.Text.Json;
using Microsoft.Extensions.Configuration;
using PdM.Host;
using PdM.Testing;

namespace PdM.Infra.Tests;

/// <summary>
/// docker-compose.yml is the production topology an operator starts with one command. There is no Docker engine
/// on build machines, so these tests validate it with the real docker-compose (Debian's 1.29) and check what it
/// renders: every service present, every PdM container on the one image, each module wired to its dependencies.
/// </summary>
public sealed class DockerComposeTests
{
    private static readonly string[] ExpectedServices =
    [
        "rabbitmq", "postgres", "mosquitto", "migrate", "maintenance", "telemetry", "registry", "lineage",
        "gateway", "simulator", "otel-collector", "prometheus", "grafana",
    ];

    private static readonly string[] PdmImageServices =
        ["migrate", "maintenance", "telemetry", "registry", "lineage", "gateway", "simulator"];

    // Rendered with the documented dev defaults, whatever the caller's shell exports.
    private static readonly string[] SecretVariables =
        ["PDM_DB_USER", "PDM_DB_PASSWORD", "PDM_RABBITMQ_USER", "PDM_RABBITMQ_PASSWORD", "PDM_IMAGE", "PDM_MQTT_SECRETS_DIR",
         "PDM_MQTT_GATEWAY_PASSWORD", "PDM_MQTT_SIMULATOR_PASSWORD", "PDM_MQTT_HEALTH_PASSWORD", "PDM_GATEWAY_CLIENT_SECRET"];

    private static readonly Lazy<Task<JsonElement>> Rendered = new(() => RenderAsync(ComposeFile));

    /// <summary>docker-compose.yml as <c>docker-compose config</c> renders it (interpolated, anchors merged), as JSON.</summary>
    internal static Task<JsonElement> RenderedCompose => Rendered.Value;

    private static string ComposeFile => Path.Combine(LocalDependencies.RepositoryRoot, "docker-compose.yml");

    // From the host's own catalogue, not written out again here: a copied list once kept a "training" container that
    // PdM.Host refuses to start (Training is a library that the Telemetry module runs, not a module).
    public static TheoryData<string, string> CloudModules
    {
        get
        {
            var modules = new TheoryData<string, string>();
            foreach (var module in ModuleCatalog.All)
            {
                modules.Add(module.Name.ToLowerInvariant(), module.Name);
            }

            return modules;
        }
    }

    [Fact]
    public async Task Compose_file_is_valid_and_names_every_service_of_the_topology()
    {
        var services = (await Rendered.Value).GetProperty("services");

        var missing = ExpectedServices.Where(name => !services.TryGetProperty(name, out _)).ToArray();
        Assert.True(missing.Length == 0, "services missing from docker-compose.yml: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task Every_PdM_container_runs_the_one_image_built_from_infra_docker_Dockerfile()
    {
        var services = (await Rendered.Value).GetProperty("services");

        var images = PdmImageServices.Select(name => Describe(services.GetProperty(name))).Distinct().ToArray();

        var image = Assert.Single(images);
        Assert.Equal("infra/docker/Dockerfile", image.Dockerfile);
        Assert.Equal(Path.TrimEndingDirectorySeparator(LocalDependencies.RepositoryRoot), image.Context);
        Assert.True(File.Exists(Path.Combine(LocalDependencies.RepositoryRoot, "infra", "docker", "Dockerfile")));
    }

    [Theory]
    [MemberData(nameof(CloudModules))]
    public async Task Each_cloud_module_container_hosts_its_module_on_RabbitMq_after_the_migrations(string service, string module)
    {
        var container = (await Rendered.Value).GetProperty("services").GetProperty(service);
        var environment = container.GetProperty("environment");

        Assert.Equal(module, environment.GetProperty("PdM__Modules").GetString());
        Assert.Equal("RabbitMq", environment.GetProperty("Messaging__Transport").GetString());
        Assert.Equal("amqp://pdm:pdm@rabbitmq:5672/", environment.GetProperty("Messaging__RabbitMq__Uri").GetString());
        Assert.Equal(
            "Host=postgres;Port=5432;Username=pdm;Password=pdm;Database=pdm",
            environment.GetProperty("ConnectionStrings__Postgres").GetString());
        Assert.Equal("http://otel-collector:4317", environment.GetProperty("OTEL_EXPORTER_OTLP_ENDPOINT").GetString());

        var dependsOn = container.GetProperty("depends_on");
        Assert.Equal("service_healthy", dependsOn.GetProperty("postgres").GetProperty("condition").GetString());
        Assert.Equal("service_healthy", dependsOn.GetProperty("rabbitmq").GetProperty("condition").GetString());
        Assert.Equal("service_completed_successfully", dependsOn.GetProperty("migrate").GetProperty("condition").GetString());
        Assert.Contains("/health/ready", container.GetProperty("healthcheck").GetProperty("test").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_module_selection_in_the_compose_file_is_one_PdM_Host_accepts_and_every_module_has_a_container()
    {
        var services = (await Rendered.Value).GetProperty("services");
        var selections = services.EnumerateObject()
            .Where(s => s.Value.TryGetProperty("environment", out var e) && e.TryGetProperty("PdM__Modules", out _))
            .ToDictionary(s => s.Name, s => s.Value.GetProperty("environment").GetProperty("PdM__Modules").GetString());

        var refused = new List<string>();
        var hosted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (service, selection) in selections)
        {
            var configuration = new ConfigurationBuilder()
                .AddInMemoryCollection([new(ModuleCatalog.ConfigurationKey, selection)])
                .Build();
            try
            {
                var modules = ModuleCatalog.Select(configuration);
                if (service != "migrate")
                {
                    hosted.UnionWith(modules.Select(m => m.Name));
                }
            }
            catch (InvalidOperationException ex)
            {
                refused.Add($"{service}: {ex.Message}");
            }
        }

        Assert.True(refused.Count == 0, "PdM.Host would refuse to start:\n" + string.Join('\n', refused));
        Assert.Equal(ModuleCatalog.All.Select(m => m.Name).Order(), hosted.Order());
    }

    [Fact]
    public async Task Prometheus_scrapes_every_PdM_container_that_serves_metrics_and_nothing_the_compose_file_lacks()
    {
        var services = (await Rendered.Value).GetProperty("services");
        var config = await File.ReadAllTextAsync(Path.Combine(LocalDependencies.RepositoryRoot, "infra", "prometheus", "prometheus.yml"));
        var targets = System.Text.RegularExpressions.Regex.Matches(config, @"^\s+- ([a-z-]+):8080\s*$", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value)
            .ToArray();

        // Every long-running PdM process serves /metrics on 8080; migrate exits, the simulator has no HTTP endpoint.
        string[] expected = [.. ModuleCatalog.All.Select(m => m.Name.ToLowerInvariant()), "gateway"];
        Assert.Equal(expected.Order(), targets.Order());
        Assert.All(targets, t => Assert.True(services.TryGetProperty(t, out _), $"prometheus.yml scrapes {t}:8080, which docker-compose.yml does not start"));
    }

    [Fact]
    public async Task Migrate_runs_the_host_migrate_command_once_after_postgres_and_rabbitmq_are_healthy()
    {
        var migrate = (await Rendered.Value).GetProperty("services").GetProperty("migrate");

        Assert.Equal(["migrate"], migrate.GetProperty("command").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("no", migrate.GetProperty("restart").GetString());
        Assert.Equal("service_healthy", migrate.GetProperty("depends_on").GetProperty("postgres").GetProperty("condition").GetString());
        // It declares the modules' queues too (MigrateCommand), so it needs the broker up.
        Assert.Equal("service_healthy", migrate.GetProperty("depends_on").GetProperty("rabbitmq").GetProperty("condition").GetString());
    }

    [Fact]
    public async Task Gateway_and_simulator_run_their_own_entry_points_against_mosquitto_for_plant_a()
    {
        var services = (await Rendered.Value).GetProperty("services");
        var gateway = services.GetProperty("gateway");
        var simulator = services.GetProperty("simulator");

        Assert.Contains("PdM.Edge.Gateway.dll", gateway.GetProperty("entrypoint").ToString(), StringComparison.Ordinal);
        Assert.Contains("PdM.Edge.Simulator.dll", simulator.GetProperty("entrypoint").ToString(), StringComparison.Ordinal);

        var gatewayEnvironment = gateway.GetProperty("environment");
        Assert.Equal("plant-a", gatewayEnvironment.GetProperty("Gateway__SiteId").GetString());
        Assert.Equal("mosquitto", gatewayEnvironment.GetProperty("Gateway__Mqtt__Host").GetString());
        Assert.Equal("1883", gatewayEnvironment.GetProperty("Gateway__Mqtt__Port").GetString());
        Assert.Equal("RabbitMq", gatewayEnvironment.GetProperty("Messaging__Transport").GetString());

        var simulatorEnvironment = simulator.GetProperty("environment");
        Assert.Equal("plant-a", simulatorEnvironment.GetProperty("Simulator__SiteId").GetString());
        Assert.Equal("mosquitto", simulatorEnvironment.GetProperty("Simulator__Mqtt__Host").GetString());
        Assert.Equal("1883", simulatorEnvironment.GetProperty("Simulator__Mqtt__Port").GetString());
    }

    [Fact]
    public async Task Brokers_and_database_declare_the_healthchecks_the_modules_wait_for()
    {
        var services = (await Rendered.Value).GetProperty("services");

        Assert.Contains("pg_isready", HealthTest(services, "postgres"), StringComparison.Ordinal);
        Assert.Contains("rabbitmq-diagnostics", HealthTest(services, "rabbitmq"), StringComparison.Ordinal);
        Assert.Contains("ping", HealthTest(services, "rabbitmq"), StringComparison.Ordinal);
        Assert.Contains("mosquitto_sub", HealthTest(services, "mosquitto"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("    migrate:\n      condition: service_completed_successfully", "    migrations:\n      condition: service_completed_successfully")]
    [InlineData("    restart: unless-stopped\n    hostname: rabbitmq", "    restat: unless-stopped\n    hostname: rabbitmq")]
    [InlineData("\nservices:\n", "\nservices:\n  - broken\n")]
    public async Task Validation_rejects_a_broken_copy_of_the_compose_file(string original, string broken)
    {
        var directory = Directory.CreateTempSubdirectory("pdm-compose-");
        try
        {
            var text = (await File.ReadAllTextAsync(ComposeFile)).ReplaceLineEndings("\n");
            Assert.Contains(original, text, StringComparison.Ordinal);
            var intact = Path.Combine(directory.FullName, "intact.yml");
            var damaged = Path.Combine(directory.FullName, "broken.yml");
            await File.WriteAllTextAsync(intact, text);
            await File.WriteAllTextAsync(damaged, text.Replace(original, broken, StringComparison.Ordinal));

            // The untouched copy passes in the same place, so the failure below is the damage, not the move.
            var intactResult = await RunComposeConfigAsync(intact);
            var brokenResult = await RunComposeConfigAsync(damaged);

            Assert.True(intactResult.ExitCode == 0, intactResult.ToString());
            Assert.True(brokenResult.ExitCode != 0, "docker-compose accepted a broken file:\n" + brokenResult);
            Assert.False(string.IsNullOrWhiteSpace(brokenResult.StandardError));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Prometheus_loads_the_shipped_alert_rules_and_Grafana_provisions_the_shipped_dashboards_on_it()
    {
        var services = (await Rendered.Value).GetProperty("services");
        var root = LocalDependencies.RepositoryRoot;

        // Prometheus: the rules file is mounted where its configuration looks for it.
        var prometheusMounts = services.GetProperty("prometheus").GetProperty("volumes").ToString();
        Assert.Contains("alerts.yml", prometheusMounts, StringComparison.Ordinal);
        var prometheusConfig = await File.ReadAllTextAsync(Path.Combine(root, "infra", "prometheus", "prometheus.yml"));
        Assert.Contains("/etc/prometheus/alerts.yml", prometheusConfig, StringComparison.Ordinal);

        // Grafana: provisioning and dashboards mounted; every dashboard's datasource is the provisioned one (by uid).
        var grafanaMounts = services.GetProperty("grafana").GetProperty("volumes").ToString();
        Assert.Contains("/etc/grafana/provisioning", grafanaMounts, StringComparison.Ordinal);
        Assert.Contains("/var/lib/grafana/dashboards", grafanaMounts, StringComparison.Ordinal);
        var datasource = await File.ReadAllTextAsync(Path.Combine(root, "infra", "grafana", "provisioning", "datasources", "prometheus.yml"));
        Assert.Contains("uid: pdm-prometheus", datasource, StringComparison.Ordinal);
        Assert.Contains("url: http://prometheus:9090", datasource, StringComparison.Ordinal);
        var dashboards = Directory.GetFiles(Path.Combine(root, "infra", "grafana", "dashboards"), "*.json");
        Assert.Equal(4, dashboards.Length);
        foreach (var file in dashboards)
        {
            using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(file));
            var uids = dashboard.RootElement.GetProperty("panels").EnumerateArray()
                .Where(p => p.TryGetProperty("datasource", out _))
                .Select(p => p.GetProperty("datasource").GetProperty("uid").GetString() ?? string.Empty)
                .Distinct().ToArray();
            Assert.Equal(["pdm-prometheus"], uids);
        }
    }

    private static (string? Image, string? Context, string? Dockerfile) Describe(JsonElement service)
    {
        var image = service.TryGetProperty("image", out var i) ? i.GetString() : null;
        if (!service.TryGetProperty("build", out var build))
        {
            return (image, null, null);
        }

        return (image, build.GetProperty("context").GetString(), build.GetProperty("dockerfile").GetString());
    }

    private static string HealthTest(JsonElement services, string name) =>
        services.GetProperty(name).GetProperty("healthcheck").GetProperty("test").ToString();

    private static Task<ProcessResult> RunComposeConfigAsync(string file) =>
        ProcessRunner.RunAsync(
            "docker-compose",
            ["-f", file, "config"],
            workingDirectory: Path.GetDirectoryName(file),
            removeVariables: SecretVariables);

    private static async Task<JsonElement> RenderAsync(string file)
    {
        var config = await RunComposeConfigAsync(file);
        Assert.True(config.ExitCode == 0, "docker-compose config failed:\n" + config);

        // Debian's own python3 carries PyYAML (docker-compose depends on it): it turns the rendered YAML into JSON.
        var json = await ProcessRunner.RunAsync(
            "/usr/bin/python3",
            ["-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
            standardInput: config.StandardOutput);
        Assert.True(json.ExitCode == 0, json.ToString());

        using var document = JsonDocument.Parse(json.StandardOutput);
        return document.RootElement.Clone();
    }
}
