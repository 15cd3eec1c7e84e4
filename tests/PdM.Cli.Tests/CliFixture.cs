using System.Text.Json.Nodes;
using PdM.Registry;
using PdM.Telemetry;
using PdM.Testing;

namespace PdM.Cli.Tests;

/// <summary>A Registry and Telemetry (feature store) host in Development (so the development issuer is on) with its own database, vhost and folders.</summary>
public sealed class CliFixture : IAsyncLifetime
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), "pdm-cli-test-" + Guid.NewGuid().ToString("N"));
    private ModuleTestHost? _host;

    public string Server { get; private set; } = null!;

    public LogCapture Logs { get; } = new();

    /// <summary>The host's API as <c>test-admin</c>: for setting up what a test's user works with (specs, imports).</summary>
    public HttpClient Admin => _host!.Api;

    /// <summary>The host's bus on the real RabbitMQ: what a gateway's uplink publishes into (heartbeats).</summary>
    public MassTransit.IBus Bus => _host!.Bus;

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Registry:StateDirectory"] = Path.Combine(_state, "registry"),
            ["Auth:DevelopmentIssuer:KeyPath"] = Path.Combine(_state, "auth", "dev-issuer.pem"),
            ["Registry:OutboxPollInterval"] = "00:00:00.200",
            ["Training:ModelStorePath"] = Path.Combine(_state, "model-store"),
        };
        _host = await ModuleTestHost.StartAsync([RegistryModule.Descriptor, TelemetryModule.Descriptor], await ModuleTestBackend.CreateAsync("cli"), settings, Logs, environment: "Development");
        Server = _host.Api.BaseAddress!.ToString();
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }

    /// <summary>A package directory as training writes it: a committed test model renamed and re-versioned.</summary>
    public static string Package(string source, string name, string version = "1.0.0")
    {
        var from = Path.Combine(LocalDependencies.RepositoryRoot, "tests", "models", "generated", source);
        var to = Path.Combine(Path.GetTempPath(), "pdm-cli-packages", name + "-" + version);
        Directory.CreateDirectory(to);
        File.Copy(Path.Combine(from, "model.onnx"), Path.Combine(to, "model.onnx"), overwrite: true);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(from, "manifest.json")))!.AsObject();
        manifest["name"] = name;
        manifest["version"] = version;
        File.WriteAllText(Path.Combine(to, "manifest.json"), manifest.ToJsonString());
        return to;
    }
}
