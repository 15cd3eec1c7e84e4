using System.Net;
using System.Net.Http.Json;
using PdM.Contracts.Edge;
using PdM.Lineage.Graph;
using PdM.Testing;

namespace PdM.Lineage.Tests;

/// <summary>The data-egress policy a site's gateway reports in its heartbeat becomes part of that site's lineage, by version.</summary>
public sealed class EgressPolicyLineageTests(LineageFixture fixture) : IClassFixture<LineageFixture>
{
    [Fact]
    public async Task A_model_deployed_at_a_site_traces_forward_to_the_egress_policy_versions_its_gateway_enforced()
    {
        var site = "plant-" + Guid.NewGuid().ToString("N")[..8];
        var chain = new LifecycleChain("egress-rul", "1." + Guid.NewGuid().ToString("N")[..6], site, "gw-" + site, "run-eg", "sha256:beef");
        await chain.PublishAsync(fixture.Bus, uploader: "alice", approver: "bob", asset: "PUMP-1");
        await fixture.Bus.Publish(Heartbeat(site, "v3", ["decisions", "health"]));
        await fixture.Bus.Publish(Heartbeat(site, "v4", ["decisions"]));

        var forward = await Eventually.Until(async () =>
        {
            using var response = await fixture.Api.GetAsync($"/api/lineage/models/{chain.Model}/{chain.Version}");
            return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<LineageTrace>() : null;
        }, t => t is not null && t.Nodes.Count(n => n.Kind == "egress-policy") == 2, TimeSpan.FromSeconds(30), "both policy versions in the trace");

        Assert.Contains(new LineageEdgeResponse("site:" + site, $"egress-policy:{site}@v3", "governed-by"), forward!.Edges);
        Assert.Contains(new LineageEdgeResponse("site:" + site, $"egress-policy:{site}@v4", "governed-by"), forward.Edges);
        var v4 = forward.Nodes.Single(n => n.Id == $"egress-policy:{site}@v4");
        Assert.Equal("decisions", v4.Properties.GetProperty("allowedClasses").GetString());
        Assert.Equal("assetId", v4.Properties.GetProperty("hashedFields").GetString());
        Assert.Equal("false", v4.Properties.GetProperty("cloudTrainingAllowed").GetString());
    }

    private static GatewayHeartbeat Heartbeat(string site, string version, IReadOnlyList<string> allowed) => new()
    {
        EventId = Guid.NewGuid(),
        GatewayId = "gw-" + site,
        SiteId = site,
        OccurredAt = DateTimeOffset.UtcNow,
        IntervalSeconds = 30,
        Software = new GatewaySoftware { GatewayVersion = "1.0.0", Runtime = ".NET 10", OperatingSystem = "Linux" },
        Host = new GatewayHostResources { ProcessorCount = 2, ProcessCpuPercent = 1, ProcessWorkingSetBytes = 1 },
        Disks = [],
        Journal = new GatewayJournalFill { Bytes = 0, QuotaBytes = 1, Entries = 0 },
        UplinkUp = true,
        Models = [],
        Inventory = [],
        Egress = new GatewayEgressPolicyStatus
        {
            Version = version,
            AllowedClasses = allowed,
            HashedFields = ["assetId"],
            DroppedFields = [],
            CloudTrainingAllowed = false,
        },
    };
}
