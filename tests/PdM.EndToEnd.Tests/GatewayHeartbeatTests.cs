using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using PdM.Edge.Gateway;
using PdM.Security;
using PdM.Testing;

namespace PdM.EndToEnd.Tests;

/// <summary>
/// A gateway's heartbeat crosses the real RabbitMQ into the registry (PostgreSQL) and <c>GET /api/gateways</c> lists it
/// fresh, with the machine, journal, model and asset figures; a gateway that stops is listed stale.
/// </summary>
public sealed class GatewayHeartbeatTests : IAsyncLifetime
{
    private readonly string _site = LocalDependencies.UniqueName("hb").Replace('_', '-');
    private readonly string _state = Path.Combine(Path.GetTempPath(), "pdm-tests", LocalDependencies.UniqueName("hb"));
    private readonly TestTokenIssuer _tokens = new();
    private readonly LogCapture _gatewayLogs = new();
    private CloudUnderTest? _cloud;
    private WebApplication? _gateway;

    public async Task InitializeAsync()
    {
        _cloud = await CloudUnderTest.StartAsync("hb",
            [
                "--environment=Development",
                "--PdM:Modules=Registry",
                $"--Registry:StateDirectory={Path.Combine(_state, "registry")}",
                $"--Auth:DevelopmentIssuer:KeyPath={Path.Combine(_state, "auth", "dev-issuer.pem")}",
                .. _tokens.Arguments,
            ]);

        _gateway = GatewayApplication.Build(
            [
                .. TestGatewayArguments.OnLocalBrokers(_site, _cloud.RabbitMq),
                "--Gateway:HeartbeatSeconds=1",
                $"--Inference:ModelStorePath={Path.Combine(_state, "models")}",
                $"--Journal:Path={Path.Combine(_state, "journal.db")}",
                .. ThinSliceTests.AssetModelArguments("PUMP-1", "PUMP-2"),
            ],
            builder => builder.Logging.AddProvider(_gatewayLogs));
        await _gateway.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.StopAsync();
            await _gateway.DisposeAsync();
        }

        if (_cloud is not null)
        {
            await _cloud.DisposeAsync();
        }

        _tokens.Dispose();
    }

    [Fact]
    public async Task The_registry_lists_the_gateway_fresh_with_its_figures_and_stale_once_it_stops()
    {
        using var planner = Client("paula", PdMRoles.Planner);
        // The machine's CPU is measured over a heartbeat's interval: the first heartbeat, taken at start, may come
        // before its counters have moved and leave it out (MachineSamplerTests); the next one, a second later, has it.
        var first = await Eventually.Until(() => Gateway(planner), g => g is { } found && (!OperatingSystem.IsLinux() || HasHostCpu(found)),
            TimeSpan.FromSeconds(60), "the gateway in GET /api/gateways with the machine's CPU");
        var gateway = first!.Value;
        Assert.Equal(_site, gateway.GetProperty("siteId").GetString());
        Assert.False(gateway.GetProperty("stale").GetBoolean());
        Assert.Equal(1, gateway.GetProperty("intervalSeconds").GetInt32());
        Assert.False(string.IsNullOrEmpty(gateway.GetProperty("gatewayVersion").GetString()));
        // Registry receipt minus the gateway's publish, both on this machine's clock: the broker transit, well under a second.
        Assert.InRange(gateway.GetProperty("clockOffsetMs").GetDouble(), -1000, 1000);

        var heartbeat = gateway.GetProperty("heartbeat");
        Assert.StartsWith(".NET", heartbeat.GetProperty("software").GetProperty("runtime").GetString(), StringComparison.Ordinal);
        var host = heartbeat.GetProperty("host");
        Assert.Equal(Environment.ProcessorCount, host.GetProperty("processorCount").GetInt32());
        Assert.True(host.GetProperty("processWorkingSetBytes").GetInt64() > 0);
        if (OperatingSystem.IsLinux())
        {
            Assert.True(host.TryGetProperty("hostCpuPercent", out _), "Linux has /proc/stat: the machine's CPU must be reported");
            Assert.True(host.GetProperty("hostMemoryAvailableBytes").GetInt64() > 0);
        }

        var disks = heartbeat.GetProperty("disks").EnumerateArray().ToList();
        Assert.Contains(disks, d => d.GetProperty("purpose").GetString() == "journal" && d.GetProperty("freeBytes").GetInt64() > 0);
        Assert.Contains(disks, d => d.GetProperty("purpose").GetString() == "model_store" && d.GetProperty("totalBytes").GetInt64() > 0);
        Assert.Equal(256L * 1024 * 1024, heartbeat.GetProperty("journal").GetProperty("quotaBytes").GetInt64());
        Assert.True(heartbeat.GetProperty("uplinkUp").GetBoolean());
        Assert.Empty(heartbeat.GetProperty("models").EnumerateArray());

        var inventory = Assert.Single(heartbeat.GetProperty("inventory").EnumerateArray());
        Assert.Equal("centrifugal-pump", inventory.GetProperty("assetClass").GetString());
        Assert.Equal(["PUMP-1", "PUMP-2"], inventory.GetProperty("assets").EnumerateArray().Select(a => a.GetProperty("assetId").GetString()));
        Assert.All(inventory.GetProperty("assets").EnumerateArray(), a =>
            Assert.Equal(["vibration_rms_mm_s", "bearing_temperature_c"], a.GetProperty("sensors").EnumerateArray().Select(s => s.GetString())));
        // This machine has no NVIDIA GPU: the figures are absent, not zero.
        if (!File.Exists("/usr/bin/nvidia-smi"))
        {
            Assert.False(heartbeat.TryGetProperty("gpus", out _));
        }

        // The registry keeps the latest: a later heartbeat replaces the first.
        var firstAt = gateway.GetProperty("lastHeartbeatAt").GetDateTimeOffset();
        await Eventually.Until(() => Gateway(planner), g => g!.Value.GetProperty("lastHeartbeatAt").GetDateTimeOffset() > firstAt, TimeSpan.FromSeconds(30), "a newer heartbeat");

        // The same figures are the gateway's metrics.
        using var metrics = new HttpClient { BaseAddress = new Uri(ListeningAddress.Of(_gateway!)) };
        var text = await metrics.GetStringAsync("/metrics");
        Assert.Contains("pdm_gateway_disk_free", text, StringComparison.Ordinal);
        Assert.Contains("pdm_gateway_cpu", text, StringComparison.Ordinal);
        Assert.DoesNotContain("pdm_gpu_", text, StringComparison.Ordinal);

        // Who may read it: planners and admins, not data scientists.
        using var scientist = Client("dana", PdMRoles.DataScientist);
        using var refused = await scientist.GetAsync("/api/gateways");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        // A gateway that stops sending is listed stale after three of its intervals.
        await _gateway!.StopAsync();
        await Eventually.Until(() => Gateway(planner), g => g!.Value.GetProperty("stale").GetBoolean(), TimeSpan.FromSeconds(30), "the stopped gateway listed stale");
    }

    private HttpClient Client(string user, string role) => _cloud!.Client(_tokens.Issue(user, [role]));

    private static bool HasHostCpu(JsonElement gateway) =>
        gateway.GetProperty("heartbeat").GetProperty("host").TryGetProperty("hostCpuPercent", out var cpu) && cpu.ValueKind == JsonValueKind.Number;

    private async Task<JsonElement?> Gateway(HttpClient api)
    {
        using var document = JsonDocument.Parse(await api.GetStringAsync("/api/gateways"));
        foreach (var gateway in document.RootElement.EnumerateArray())
        {
            if (gateway.GetProperty("gatewayId").GetString() == $"gw-{_site}")
            {
                return gateway.Clone();
            }
        }

        return null;
    }
}
