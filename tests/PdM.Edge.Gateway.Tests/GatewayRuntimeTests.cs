using System.Text.Json;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// The runtime settings the gateway is built with (edge/PdM.Edge.Gateway/GatewayRuntime.props), read from the
/// <c>PdM.Edge.Gateway.runtimeconfig.json</c> the build writes and <c>dotnet publish</c> ships: without them the Web SDK
/// would make it a server-GC process (more resident memory on a small box) whose idle thread-pool workers spin before
/// they sleep (CPU a plant's gateway pays on every message at a live pace).
/// </summary>
public sealed class GatewayRuntimeTests
{
    [Fact]
    public void The_gateway_runs_on_the_workstation_GC_without_thread_pool_spinning()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "PdM.Edge.Gateway.runtimeconfig.json");
        using var runtimeConfig = JsonDocument.Parse(File.ReadAllText(file));
        var properties = runtimeConfig.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.False(properties.GetProperty("System.GC.Server").GetBoolean());
        Assert.True(properties.GetProperty("System.GC.Concurrent").GetBoolean());
        Assert.Equal("0", properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").ToString());
    }
}
