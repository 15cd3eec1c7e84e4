using System.Diagnostics;
using System.Globalization;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;
using Npgsql;
using PdM.Testing;
using RabbitMQ.Client;

namespace PdM.Infra.Tests;

/// <summary>
/// infra/local/deps.sh is what every developer, test run and CI job uses to get real PostgreSQL, RabbitMQ and
/// Mosquitto on loopback. These tests run it against the servers that `make test` started with it.
/// </summary>
public sealed class LocalDependenciesScriptTests
{
    private static readonly string StateDirectory =
        Environment.GetEnvironmentVariable("PDM_STATE_DIR") is { Length: > 0 } configured
            ? configured
            : Path.Combine(LocalDependencies.RepositoryRoot, ".state");

    // PDM_PORT_OFFSET lets several checkouts run their own servers side by side; every port moves by it.
    private static readonly int PortOffset =
        int.Parse(Environment.GetEnvironmentVariable("PDM_PORT_OFFSET") is { Length: > 0 } offset ? offset : "0", CultureInfo.InvariantCulture);

    private static readonly int PostgresPort = 55432 + PortOffset;
    private static readonly int AmqpPort = 55672 + PortOffset;
    private static readonly int MqttPort = 51883 + PortOffset;

    private static readonly Dictionary<string, string> ExpectedEnvironment = new(StringComparer.Ordinal)
    {
        ["PDM_STATE_DIR"] = StateDirectory,
        ["PDM_PORT_OFFSET"] = PortOffset.ToString(CultureInfo.InvariantCulture),
        ["PDM_POSTGRES"] = Invariant($"Host=127.0.0.1;Port={PostgresPort};Username=pdm;Password=pdm;Database=postgres"),
        ["ConnectionStrings__Postgres"] = Invariant($"Host=127.0.0.1;Port={PostgresPort};Username=pdm;Password=pdm;Database=pdm"),
        ["PDM_RABBITMQ_URI"] = Invariant($"amqp://pdm:pdm@127.0.0.1:{AmqpPort}/"),
        ["Messaging__RabbitMq__Uri"] = Invariant($"amqp://pdm:pdm@127.0.0.1:{AmqpPort}/"),
        ["PDM_MQTT_HOST"] = "127.0.0.1",
        ["PDM_MQTT_PORT"] = Invariant($"{MqttPort}"),
        ["Gateway__Mqtt__Host"] = "127.0.0.1",
        ["Gateway__Mqtt__Port"] = Invariant($"{MqttPort}"),
        ["Simulator__Mqtt__Host"] = "127.0.0.1",
        ["Simulator__Mqtt__Port"] = Invariant($"{MqttPort}"),
        ["PDM_PROMETHEUS_URL"] = Invariant($"http://127.0.0.1:{59090 + PortOffset}"),
    };

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);

    private static readonly string[] Servers = ["postgres", "rabbitmq", "mosquitto"];

    [Fact]
    public void Env_prints_every_connection_setting_as_an_export_line_for_eval()
    {
        var exported = ParseExports(LocalDependencies.RunDepsScript("env"));

        foreach (var (name, value) in ExpectedEnvironment)
        {
            Assert.True(exported.TryGetValue(name, out var actual), $"deps.sh env does not export {name}");
            Assert.Equal(value, actual);
        }
    }

    [Fact]
    public void Status_reports_the_three_servers_running_on_their_loopback_ports()
    {
        // RunDepsScript throws on a non-zero exit, and status exits non-zero when a server is down.
        var lines = LocalDependencies.RunDepsScript("status").Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(Servers.Length, lines.Length);
        foreach (var (server, port) in new[] { ("postgres", PostgresPort), ("rabbitmq", AmqpPort), ("mosquitto", MqttPort) })
        {
            var line = Assert.Single(lines, l => l.StartsWith(server + " ", StringComparison.Ordinal));
            Assert.Contains(" running ", line, StringComparison.Ordinal);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}"), line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Start_prometheus_runs_it_on_its_port_with_the_shipped_alert_rules_loaded()
    {
        // Never started by `make test`: this test starts it, and stops it again unless the developer had it running.
        bool wasRunning;
        try
        {
            LocalDependencies.RunDepsScript("status prometheus"); // exits non-zero (throws) when it is not running
            wasRunning = true;
        }
        catch (InvalidOperationException)
        {
            wasRunning = false;
        }

        var exported = ParseExports(LocalDependencies.RunDepsScript("start prometheus"));
        try
        {
            Assert.Contains(" running ", LocalDependencies.RunDepsScript("status prometheus"), StringComparison.Ordinal);
            using var http = new HttpClient { BaseAddress = new Uri(exported["PDM_PROMETHEUS_URL"]) };
            var rules = await http.GetStringAsync(new Uri("api/v1/rules", UriKind.Relative));
            foreach (var alert in new[] { "PdmGatewayNotIngesting", "PdmCmmsBreakerOpen", "PdmOutboxOldestEntryTooOld" })
            {
                Assert.Contains($"\"name\":\"{alert}\"", rules, StringComparison.Ordinal);
            }
        }
        finally
        {
            if (!wasRunning)
            {
                LocalDependencies.RunDepsScript("stop prometheus");
            }
        }
    }

    [Fact]
    public void Pid_names_a_live_process_for_each_server()
    {
        foreach (var server in Servers)
        {
            var pid = int.Parse(LocalDependencies.RunDepsScript("pid " + server).Trim(), CultureInfo.InvariantCulture);

            using var process = Process.GetProcessById(pid);
            Assert.False(process.HasExited, $"{server} pid {pid} has exited");
        }
    }

    [Fact]
    public async Task Vhost_twice_succeeds_and_user_pdm_can_use_the_vhost()
    {
        var name = LocalDependencies.UniqueName("infra");

        LocalDependencies.RunDepsScript($"vhost {name}");
        LocalDependencies.RunDepsScript($"vhost {name}");
        var uri = LocalDependencies.CreateRabbitMqVirtualHost(name);

        // Full permissions: declare (configure), publish (write) and get (read) in the new vhost.
        var factory = new ConnectionFactory { Uri = uri };
        await using var connection = await factory.CreateConnectionAsync();
        Assert.Equal(name, factory.VirtualHost);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var queue = await channel.QueueDeclareAsync(queue: "", durable: false, exclusive: true, autoDelete: true);
        await channel.BasicPublishAsync(exchange: "", routingKey: queue.QueueName, body: Encoding.UTF8.GetBytes("reading"));
        var received = await channel.BasicGetAsync(queue.QueueName, autoAck: true);

        Assert.NotNull(received);
        Assert.Equal("reading", Encoding.UTF8.GetString(received.Body.Span));
    }

    [Fact]
    public async Task The_printed_settings_reach_the_real_servers_as_user_pdm()
    {
        var exported = ParseExports(LocalDependencies.RunDepsScript("env"));

        await using (var postgres = new NpgsqlConnection(exported["ConnectionStrings__Postgres"]))
        {
            await postgres.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT current_user || '/' || current_database()", postgres);
            Assert.Equal("pdm/pdm", await command.ExecuteScalarAsync());
        }

        await using (var admin = new NpgsqlConnection(exported["PDM_POSTGRES"]))
        {
            await admin.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", admin);
            Assert.Equal(true, await command.ExecuteScalarAsync());
        }

        var factory = new ConnectionFactory { Uri = new Uri(exported["PDM_RABBITMQ_URI"]) };
        await using (var rabbit = await factory.CreateConnectionAsync())
        {
            Assert.True(rabbit.IsOpen);
        }

        using var mqtt = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(exported["PDM_MQTT_HOST"], int.Parse(exported["PDM_MQTT_PORT"], CultureInfo.InvariantCulture))
            .WithClientId(LocalDependencies.UniqueName("infra"))
            .Build();
        var connected = await mqtt.ConnectAsync(options);
        Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);
        var published = await mqtt.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic("pdm/infra-test/probe/telemetry")
            .WithPayload("{}")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        Assert.True(published.IsSuccess, published.ReasonString);
        await mqtt.DisconnectAsync();
    }

    private static Dictionary<string, string> ParseExports(string output)
    {
        var exported = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // export NAME='value'  (single quotes, so eval takes the value literally)
            Assert.StartsWith("export ", line, StringComparison.Ordinal);
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            var name = line["export ".Length..equals];
            var quoted = line[(equals + 1)..];
            Assert.True(quoted.Length >= 2 && quoted[0] == '\'' && quoted[^1] == '\'', "value not single-quoted: " + line);
            exported[name] = quoted[1..^1];
        }

        return exported;
    }
}
