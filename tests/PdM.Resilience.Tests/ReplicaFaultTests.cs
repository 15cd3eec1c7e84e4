using PdM.Testing;
using Xunit.Abstractions;

namespace PdM.Resilience.Tests;

/// <summary>
/// Maintenance replicated: the in-process cloud host and a second PdM.Host process consume the module's queue as
/// competing consumers on the RabbitMQ cluster. One replica is SIGKILLed while predictions flow; every prediction is
/// reconciled by id from sensor to work order (stored once, folded once).
/// </summary>
[Collection(ServerFaults.Name)]
[Trait("Category", "Cluster")]
public sealed class ReplicaFaultTests(ITestOutputHelper output)
{
    private const int Assets = 12;

    [Fact]
    public async Task One_of_two_Maintenance_replicas_killed_with_sigkill_mid_consume_loses_and_duplicates_nothing()
    {
        await using var rig = await DeliveryRig.StartAsync("replicakill", Assets, cluster: true);
        using (var replica = rig.StartCloudReplicaProcess())
        {
            await replica.WaitConnectedAsync();
            await using var gateway = await ServerFaultTests.StartInProcessGateway(rig);
            await rig.PublishRoundAsync();
            await rig.WaitDeliveredAsync(Assets, "round 1 delivered");

            // The replica is a real consumer: round 1's work orders were split between the two.
            await Eventually.Until(() => Task.FromResult(replica.Output.Count(l => l.Contains(" raised: ", StringComparison.Ordinal))), n => n > 0,
                TimeSpan.FromSeconds(60), "the second replica to raise some of round 1's work orders");

            // Killed while rounds 2 and 3 are being consumed: what it had fetched and not acknowledged is redelivered
            // to the other replica, whose inbox absorbs anything it had already committed.
            var rounds = Task.Run(async () =>
            {
                await rig.PublishRoundAsync();
                await rig.PublishRoundAsync();
            });
            await Eventually.Until(() => Task.FromResult(rig.Delivered.Count), n => n > Assets, TimeSpan.FromSeconds(60), "round 2 under way");
            replica.Kill();
            await rounds;
            await rig.PublishRoundAsync();
            output.WriteLine(await rig.ReconcileAsync(rounds: 4));
            await gateway.StopAsync();
        }
    }
}
