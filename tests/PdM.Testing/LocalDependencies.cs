using System.Diagnostics;
using System.Globalization;

namespace PdM.Testing;

/// <summary>
/// Connection settings of the real PostgreSQL, RabbitMQ and Mosquitto that <c>infra/local/deps.sh start</c>
/// runs on loopback. The settings come from the environment (<c>eval "$(infra/local/deps.sh env)"</c>, which
/// <c>make test</c> does); when they are missing the test fails with instructions. Tests never skip a
/// missing server: under CI=true that would hide exactly what CI is there to catch.
/// </summary>
public static class LocalDependencies
{
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Npgsql connection string to the private cluster's maintenance database (a superuser).</summary>
    public static string PostgresAdmin => Require("PDM_POSTGRES");

    /// <summary>amqp://user:pass@host:port/ of the private RabbitMQ node (default vhost).</summary>
    public static Uri RabbitMqUri => new(Require("PDM_RABBITMQ_URI"));

    public static string MqttHost => Require("PDM_MQTT_HOST");

    public static int MqttPort => int.Parse(Require("PDM_MQTT_PORT"), CultureInfo.InvariantCulture);

    /// <summary>Mosquitto's TLS listener: client certificate of the local CA, password and ACL (<see cref="MqttIdentity"/>).</summary>
    public static int MqttTlsPort => int.Parse(Require("PDM_MQTT_TLS_PORT"), CultureInfo.InvariantCulture);

    /// <summary>host:port of the single RabbitMQ node's Prometheus plugin (/metrics, /metrics/detailed).</summary>
    public static string RabbitMqPrometheus => Require("PDM_RABBITMQ_PROMETHEUS");

    /// <summary>RabbitMQ's AMQP-over-TLS port, presenting the local CA's server certificate.</summary>
    public static int RabbitMqTlsPort => int.Parse(Require("PDM_RABBITMQ_TLS_PORT"), CultureInfo.InvariantCulture);

    /// <summary>The local CA (PEM) that signed the server certificates of the TLS listeners (<c>deps.sh</c>: state/pki).</summary>
    public static string TlsCaPath => Require("PDM_TLS_CA");

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>
    /// Where the solution build (<c>make build</c>, Debug) puts a product program, e.g. <c>BuildOutput("edge",
    /// "PdM.Edge.Gateway")</c>; tests run the built program as its own process from there.
    /// </summary>
    public static string BuildOutput(string area, string project) => Path.Combine(RepositoryRoot, area, project, "bin", "Debug", "net10.0");

    /// <summary>The built program's entry assembly: <c>{BuildOutput}/{project}.dll</c>.</summary>
    public static string ProgramDll(string area, string project) => Path.Combine(BuildOutput(area, project), project + ".dll");

    /// <summary>A name unique to this test run, usable as a database, vhost or topic segment.</summary>
    public static string UniqueName(string prefix) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}_{Environment.ProcessId}_{Guid.NewGuid():N}")[..Math.Min(prefix.Length + 30, 60)].ToLowerInvariant();

    /// <summary>Creates a RabbitMQ virtual host for one test class through the infra script, returning its AMQP URI.</summary>
    public static Uri CreateRabbitMqVirtualHost(string name)
    {
        RunDepsScript($"vhost {name}");
        var builder = new UriBuilder(RabbitMqUri) { Path = "/" + Uri.EscapeDataString(name) };
        return builder.Uri;
    }

    /// <summary>amqp://user:pass@host:port/ of node 1 of the private three-node cluster (<c>deps.sh start rabbitmq-cluster</c>).</summary>
    public static Uri RabbitMqClusterUri => new(Require("PDM_RABBITMQ_CLUSTER_URI"));

    /// <summary>Every node of the cluster as <c>host:port</c>, node 1 first.</summary>
    public static IReadOnlyList<string> RabbitMqClusterNodes => Require("PDM_RABBITMQ_CLUSTER_NODES").Split(',', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Creates a virtual host on the cluster (it exists on every node), returning its AMQP URI through node 1.</summary>
    public static Uri CreateRabbitMqClusterVirtualHost(string name)
    {
        RunDepsScript($"vhost {name} rabbitmq-cluster");
        return new UriBuilder(RabbitMqClusterUri) { Path = "/" + Uri.EscapeDataString(name) }.Uri;
    }

    /// <summary>Runs <c>infra/local/deps.sh</c> with the given arguments and returns its standard output.</summary>
    public static string RunDepsScript(string arguments) => RunDepsScript(arguments, new Dictionary<string, string>());

    /// <summary>
    /// The same with some environment variables set for the script alone (e.g. another <c>PDM_STATE_DIR</c> and
    /// <c>PDM_PORT_OFFSET</c>, for servers of its own beside the ones the tests share).
    /// </summary>
    public static string RunDepsScript(string arguments, IReadOnlyDictionary<string, string> environment) =>
        RunScript(Path.Combine(RepositoryRoot, "infra", "local", "deps.sh"), arguments, environment, TimeSpan.FromSeconds(30));

    /// <summary>
    /// Runs a bash <paramref name="script"/> and returns its standard output; throws when it exits non-zero, runs past
    /// 6 minutes, or leaves a process holding its output open past <paramref name="outputGrace"/> after it exits.
    /// </summary>
    public static string RunScript(string script, string arguments, IReadOnlyDictionary<string, string> environment, TimeSpan outputGrace)
    {
        var name = Path.GetFileName(script);
        var start = new ProcessStartInfo("bash", $"{script} {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (variable, value) in environment)
        {
            start.Environment[variable] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // A cluster node's start on a machine loaded by parallel builds has taken minutes.
        if (!process.WaitForExit(TimeSpan.FromMinutes(6)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{name} {arguments} did not finish in 6 minutes");
        }

        // Its output ends when the last process holding it does: a server the script started would, were it to inherit it
        // (each one writes to its own log), and a wait for the output alone would then last as long as that server.
        if (!Task.WaitAll([stdout, stderr], outputGrace))
        {
            throw new TimeoutException($"{name} {arguments} exited {process.ExitCode}, but a process it left running still holds its output open");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{name} {arguments} exited {process.ExitCode}: {stderr.Result}{stdout.Result}");
        }

        return stdout.Result;
    }

    private static string Require(string variable)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException(
                $"{variable} is not set: this test needs the real servers. Run `make test`, or " +
                "`infra/local/deps.sh start && eval \"$(infra/local/deps.sh env)\"` before `dotnet test`.");
        }

        return value;
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PdM.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("PdM.sln not found above " + AppContext.BaseDirectory);
    }
}
