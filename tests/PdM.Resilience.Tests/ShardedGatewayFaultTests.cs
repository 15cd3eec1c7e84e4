using System.Diagnostics;
using PdM.Edge.Gateway.Sharding;
using PdM.Testing;
using Xunit.Abstractions;

namespace PdM.Resilience.Tests;

/// <summary>
/// A site split across two gateway processes by asset (<c>Gateway:Sharding</c>): one is SIGKILLed while devices keep
/// sending, the other takes over its shard's MQTT session, and every prediction is reconciled by id from sensor to
/// work order; then the killed gateway returns and takes its shard back from the stand-in.
/// </summary>
[Collection(ServerFaults.Name)]
[Trait("Category", "Cluster")]
public sealed class ShardedGatewayFaultTests(ITestOutputHelper output)
{
    private const int Assets = 6;

    /// <summary>The stated bound for a killed gateway's assets to be decided again by its peer (docs/architecture.md).</summary>
    private static readonly TimeSpan TakeOverBound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task One_of_two_gateways_killed_with_sigkill_its_assets_are_decided_by_the_other_until_it_returns_and_takes_them_back_and_nothing_is_lost_or_duplicated()
    {
        await using var rig = await DeliveryRig.StartAsync("shardkill", Assets);
        var shardOf = Enumerable.Range(0, Assets).ToDictionary(a => $"P{a}", a => AssetShards.ShardOf($"P{a}", 2));
        Assert.Contains(0, shardOf.Values);
        Assert.Contains(1, shardOf.Values);
        var journals = Path.Combine(Path.GetTempPath(), "pdm-tests", rig.Site);
        // A long grace for a never-seen peer: the survivor starts first and must not stand in for a victim still starting.
        using var survivor = rig.StartGatewayProcess("--Gateway:Sharding:Count=2", "--Gateway:Sharding:Index=1", "--Gateway:Sharding:UnknownPeerGraceSeconds=600",
            $"--Journal:Path={journals}/journal-1.db", "--Logging:LogLevel:PdM.Edge.Gateway.Sharding=Information");
        await survivor.WaitReadyAsync();
        using (var victim = rig.StartGatewayProcess("--Gateway:Sharding:Count=2", "--Gateway:Sharding:Index=0", $"--Journal:Path={journals}/journal-0.db"))
        {
            await victim.WaitReadyAsync();
            await rig.PublishRoundAsync();
            await rig.WaitDeliveredAsync(Assets, "round 1 delivered", 90);
            Assert.All(rig.DecidedBy, d => Assert.Equal($"gw-{rig.Site}-{shardOf[rig.AssetOf[d.Key]]}", d.Value.Gateway));

            // Killed while healthy readings flow (not inside an alert window: a window's acknowledged readings die with
            // the gateway that held it, by design).
            using var stopStream = new CancellationTokenSource();
            var stream = Task.Run(async () =>
            {
                while (!stopStream.IsCancellationRequested)
                {
                    await rig.PublishHealthyAsync(1);
                }
            });
            await Task.Delay(300);
            victim.Kill();
            Assert.False(stream.IsCompleted, "the devices stopped publishing before the kill");
            await stopStream.CancelAsync();
            await stream;
        }

        // Round 2 right after the kill: the dead gateway's assets can only be decided by the survivor.
        var killedAt = Stopwatch.StartNew();
        await rig.PublishRoundAsync();
        await rig.WaitDeliveredAsync(Assets * 2, "round 2 delivered after the kill", (int)TakeOverBound.TotalSeconds);
        output.WriteLine($"round 2 of the killed gateway's assets decided {killedAt.Elapsed.TotalSeconds:0.0} s after the kill");
        Assert.Contains(survivor.Output, l => l.Contains("Took over shard 0", StringComparison.Ordinal));
        var afterKill = rig.DecidedBy.Where(d => d.Value.SeenAt > DateTimeOffset.UtcNow - killedAt.Elapsed).ToList();
        Assert.Equal(Assets, afterKill.Count);
        Assert.All(afterKill, d => Assert.Equal($"gw-{rig.Site}-1", d.Value.Gateway));

        // The owner comes back on its own journal and takes shard 0 back: the stand-in stands down (and a hand-back by
        // session take-over holds it off for Gateway:Sharding:HandBackHoldSeconds while the owner's presence arrives), and
        // round 3 is decided shard by shard by the owners again, each prediction once.
        using var returned = rig.StartGatewayProcess("--Gateway:Sharding:Count=2", "--Gateway:Sharding:Index=0", $"--Journal:Path={journals}/journal-0.db");
        await returned.WaitReadyAsync();
        // Whichever comes first: the owner's presence (the stand-in releases the session) or the owner's connection
        // under the session's client id (the broker takes the session from the stand-in).
        await Eventually.Until(() => Task.FromResult(survivor.Output.Any(l => l.Contains("Released shard 0: its gateway is back", StringComparison.Ordinal)
                || l.Contains("Shard 0's gateway took its session back", StringComparison.Ordinal))),
            handedBack => handedBack, TimeSpan.FromSeconds(30), "the stand-in to stand down from shard 0");
        var handedBackAt = DateTimeOffset.UtcNow;
        await rig.PublishRoundAsync();
        await rig.WaitDeliveredAsync(Assets * 3, "round 3 delivered after the hand-back", 60);
        var afterHandBack = rig.DecidedBy.Where(d => d.Value.SeenAt >= handedBackAt).ToList();
        Assert.Equal(Assets, afterHandBack.Count);
        Assert.All(afterHandBack, d => Assert.Equal($"gw-{rig.Site}-{shardOf[rig.AssetOf[d.Key]]}", d.Value.Gateway));
        // Once, at the kill: the stand-in did not adopt the shard again behind its owner's back.
        Assert.Single(survivor.Output, l => l.Contains("Took over shard 0", StringComparison.Ordinal));
        output.WriteLine(await rig.ReconcileAsync(rounds: 3));
    }
}
