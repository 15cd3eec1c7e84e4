using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
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

    private static readonly int PostgresPort = 20432 + PortOffset;
    private static readonly int AmqpPort = 20672 + PortOffset;
    private static readonly int MqttPort = 16883 + PortOffset;

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
        ["PDM_PROMETHEUS_URL"] = Invariant($"http://127.0.0.1:{24090 + PortOffset}"),
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
    public async Task Prune_vhosts_deletes_the_vhosts_of_exited_test_processes_and_keeps_those_of_running_ones()
    {
        // A fixture's vhost is PREFIX_PID_HEX (UniqueName); the test process that made this one has exited.
        int exitedPid;
        using (var exited = Process.Start("true")!)
        {
            await exited.WaitForExitAsync();
            exitedPid = exited.Id;
        }

        var orphanName = Invariant($"orphan_{exitedPid}_{Guid.NewGuid():N}");
        var orphan = LocalDependencies.CreateRabbitMqVirtualHost(orphanName);
        var running = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("running"));

        var report = LocalDependencies.RunDepsScript("prune-vhosts");

        await using (var connection = await new ConnectionFactory { Uri = running }.CreateConnectionAsync())
        {
            Assert.True(connection.IsOpen, "the vhost of this (running) test process was deleted");
        }

        // The broker refuses the deleted vhost when the first channel opens.
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var connection = await new ConnectionFactory { Uri = orphan }.CreateConnectionAsync();
            await using var channel = await connection.CreateChannelAsync();
        });
        Assert.Contains(Invariant($"vhost {orphanName} not found"), refused.Message, StringComparison.Ordinal);
        Assert.Empty(report);   // progress goes to stderr; stdout stays empty
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

    [Fact]
    public void A_start_that_fails_because_a_connection_holds_the_port_names_that_connection_and_its_process()
    {
        // The fault behind this happened here: a client's outgoing connection got a server's port as its source port
        // (the ports lay in the kernel's ephemeral range then) and Prometheus' next start failed with only "address
        // already in use" in its log. Made on purpose against servers of the test's own (another offset and state
        // folder): another program holds a connection whose source port is their Mosquitto port. It is a Python
        // process because a .NET socket could not be that client here: Mosquitto bound the port beside one, even with
        // ReuseAddress off or ExclusiveAddressUse on (a listener may share a port only with sockets that allow reuse).
        using var servers = new PrivateServers(offset: 900);
        using var peer = new TcpListener(IPAddress.Loopback, 0);
        peer.Start();
        using var holder = Process.Start(new ProcessStartInfo("python3")
        {
            ArgumentList =
            {
                "-c",
                "import socket, sys; s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); " +
                "s.connect(('127.0.0.1', int(sys.argv[2]))); print('held', flush=True); sys.stdin.read()",
                servers.MqttPort.ToString(CultureInfo.InvariantCulture),
                ((IPEndPoint)peer.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture),
            },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("could not start python3");
        using var accepted = peer.AcceptSocket();
        Assert.Equal("held", holder.StandardOutput.ReadLine());

        var failed = Assert.Throws<InvalidOperationException>(() => servers.Run("start mosquitto"));

        Assert.Contains(Invariant($"port {servers.MqttPort} is held by"), failed.Message, StringComparison.Ordinal);
        Assert.Contains(Invariant($"pid={holder.Id},"), failed.Message, StringComparison.Ordinal);

        // The peer resets the connection, so the holder's side does not linger (TIME-WAIT): then the start succeeds.
        accepted.LingerState = new LingerOption(enable: true, seconds: 0);
        accepted.Close();
        holder.StandardInput.Close();
        Assert.True(holder.WaitForExit(TimeSpan.FromSeconds(30)), "python3 did not exit");
        servers.Run("start mosquitto");
        Assert.Contains(Invariant($" running  127.0.0.1:{servers.MqttPort} "), servers.Run("status mosquitto"), StringComparison.Ordinal);
    }

    [Fact]
    public void Start_refuses_a_port_another_server_listens_on_and_names_its_process()
    {
        // Mosquitto would fail to bind, but the script's readiness probe would then reach the other server and call
        // the broker running: the probe must never get that far.
        using var servers = new PrivateServers(offset: 900);
        using var other = new TcpListener(IPAddress.Loopback, servers.MqttPort);
        other.Start();

        var refused = Assert.Throws<InvalidOperationException>(() => servers.Run("start mosquitto"));

        Assert.Contains(Invariant($"mosquitto: port {servers.MqttPort} is held by another server"), refused.Message, StringComparison.Ordinal);
        Assert.Contains(Invariant($"pid={Environment.ProcessId},"), refused.Message, StringComparison.Ordinal);
        Assert.Contains("PDM_PORT_OFFSET", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wait_for_the_lock_that_runs_out_names_the_process_holding_it()
    {
        // A process that inherited the lock's descriptor and lives on (a daemon started without closing it) keeps every
        // later deps.sh waiting; each vhost a test asks for then costs the whole wait. The error must say who holds it.
        using var servers = new PrivateServers(offset: 900);
        using var holder = Process.Start(new ProcessStartInfo("flock", ["--exclusive", servers.LockFile, "sleep", "120"]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("could not start flock");
        try
        {
            await Eventually.Until(() => Task.FromResult(File.Exists(servers.LockFile)), exists => exists, TimeSpan.FromSeconds(10), "flock to create the lock file");
            var failed = Assert.Throws<InvalidOperationException>(() => servers.Run("vhost lock_probe", ("PDM_LOCK_WAIT_SECONDS", "1")));

            Assert.Contains("timed out after 1 s waiting for", failed.Message, StringComparison.Ordinal);
            Assert.Contains(Invariant($"pid {holder.Id}: flock --exclusive {servers.LockFile} sleep 120"), failed.Message, StringComparison.Ordinal);
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            holder.WaitForExit();
        }
    }

    [Fact]
    public void Every_port_of_every_offset_lies_below_the_kernels_ephemeral_range()
    {
        // `deps.sh ports` fails otherwise; this shows the figures it checked on this machine.
        var low = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0], CultureInfo.InvariantCulture);
        var bases = LocalDependencies.RunDepsScript("ports").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => int.Parse(line, CultureInfo.InvariantCulture)).ToList();

        Assert.Contains(MqttPort - PortOffset, bases);
        Assert.All(bases, port => Assert.True(port + 900 < low, Invariant($"port {port} + 900 is not below {low}")));
    }

    /// <summary>
    /// deps.sh with a port offset and a state folder of a test's own, so that the servers the other tests share are
    /// never touched; whatever it started is stopped and its folder deleted on dispose.
    /// </summary>
    private sealed class PrivateServers : IDisposable
    {
        private readonly string _state = Path.Combine("/var/tmp", LocalDependencies.UniqueName("pdm-port-test"));
        private readonly Dictionary<string, string> _environment;

        public PrivateServers(int offset)
        {
            MqttPort = 16883 + offset;
            Directory.CreateDirectory(_state);
            _environment = new Dictionary<string, string>
            {
                ["PDM_STATE_DIR"] = _state,
                ["PDM_PORT_OFFSET"] = offset.ToString(CultureInfo.InvariantCulture),
            };
        }

        public int MqttPort { get; }

        public string LockFile => Path.Combine(_state, "deps.lock");

        public string Run(string arguments, params (string Name, string Value)[] more) =>
            LocalDependencies.RunDepsScript(arguments, new Dictionary<string, string>(_environment.Concat(more.Select(m => KeyValuePair.Create(m.Name, m.Value)))));

        public void Dispose()
        {
            Run("stop mosquitto");
            Directory.Delete(_state, recursive: true);
        }
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
