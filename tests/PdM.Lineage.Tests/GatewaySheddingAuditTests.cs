using PdM.Contracts.Edge;
using PdM.Testing;

namespace PdM.Lineage.Tests;

/// <summary>Lineage records when a gateway started and stopped shedding model work, with its lag and what it shed.</summary>
public sealed class GatewaySheddingAuditTests(LineageFixture fixture) : IClassFixture<LineageFixture>
{
    [Fact]
    public async Task Shedding_started_and_stopped_are_audited_on_the_gateway()
    {
        var gateway = "gw-" + Guid.NewGuid().ToString("N")[..8];
        var started = Change(gateway, previous: 0, level: 1, "lag", shed: 0);
        var stopped = Change(gateway, previous: 1, level: 0, "recovered", shed: 240);
        await fixture.Bus.Publish(started);
        await fixture.Bus.Publish(stopped);

        var entries = await Eventually.Until(() => fixture.Entries($"gateway:{gateway}@plant-s"), e => e.Count == 2, TimeSpan.FromSeconds(30), "both changes audited");
        Assert.Equal(["gateway.shedding.started", "gateway.shedding.stopped"], entries.Select(e => e.Action).Order(StringComparer.Ordinal));
        Assert.All(entries, e => Assert.Equal("gateway:" + gateway, e.Actor));
        Assert.Contains("\"shedDecisions\":240", Assert.Single(entries, e => e.Action == "gateway.shedding.stopped").Detail, StringComparison.Ordinal);
        Assert.Contains("\"reason\":\"lag\"", Assert.Single(entries, e => e.Action == "gateway.shedding.started").Detail, StringComparison.Ordinal);
    }

    private static GatewaySheddingChanged Change(string gateway, int previous, int level, string reason, long shed) => new()
    {
        EventId = Guid.NewGuid(), SiteId = "plant-s", GatewayId = gateway, Level = level, PreviousLevel = previous, Reason = reason,
        LagMs = 12_000, MaxLagMs = 10_000, ScoringShare = 0.9, ScoringBudget = 1, ShedDecisions = shed, OccurredAt = DateTimeOffset.UtcNow,
    };
}
