using System.Net.Http.Json;
using System.Text.Json;
using MassTransit;
using PdM.Contracts.Edge;

namespace PdM.Testing;

/// <summary>
/// A gateway's heartbeat with its asset inventory, published over the real bus as a gateway's uplink would, and the
/// wait until the registry lists it: what the registry checks a deployment's feature spec against.
/// </summary>
public static class GatewayInventories
{
    /// <param name="assets">Each asset of <paramref name="assetClass"/> and the sensors it reports.</param>
    public static async Task ReportAsync(IBus bus, HttpClient gatewaysReader, string site, string assetClass, params (string AssetId, string[] Sensors)[] assets)
    {
        ArgumentNullException.ThrowIfNull(bus);
        ArgumentNullException.ThrowIfNull(gatewaysReader);
        var now = DateTimeOffset.UtcNow;
        var gatewayId = "gw-" + site;
        await bus.Publish(new GatewayHeartbeat
        {
            EventId = Guid.NewGuid(),
            GatewayId = gatewayId,
            SiteId = site,
            OccurredAt = now,
            IntervalSeconds = 30,
            Software = new GatewaySoftware { GatewayVersion = "test", Runtime = ".NET", OperatingSystem = "Linux" },
            Host = new GatewayHostResources { ProcessorCount = 2, ProcessCpuPercent = 1, ProcessWorkingSetBytes = 1 << 20 },
            Disks = [],
            Journal = new GatewayJournalFill { Bytes = 0, QuotaBytes = 1 << 20, Entries = 0 },
            UplinkUp = true,
            Models = [],
            Inventory =
            [
                new GatewayAssetClassInventory
                {
                    AssetClass = assetClass,
                    Assets = [.. assets.Select(a => new GatewayAssetSensors { AssetId = a.AssetId, Sensors = a.Sensors })],
                },
            ],
        });
        await Eventually.Until(
            async () => await gatewaysReader.GetFromJsonAsync<JsonElement>("/api/gateways"),
            list => list.EnumerateArray().Any(g => g.GetProperty("gatewayId").GetString() == gatewayId),
            TimeSpan.FromSeconds(30),
            "the registry's record of " + gatewayId + "'s heartbeat");
    }
}
