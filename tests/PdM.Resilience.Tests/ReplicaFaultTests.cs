using System.Net;
using PdM.Messaging;
using PdM.Testing;
using RabbitMQ.Client;
using Xunit.Abstractions;

namespace PdM.Resilience.Tests;

/// <summary>
/// Maintenance replicated: the in-process cloud host and a second PdM.Host process consume the module's queue as
/// competing consumers on the RabbitMQ cluster. One replica is SIGKILLed while predictions flow, or PostgreSQL is down
/// under both for longer than the quick retries last; every prediction is reconciled by id from sensor to work order
/// (stored once, folded once) and nothing is left in an _error or dead-letter queue.
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
            await replica.WaitReadyAsync();
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

    [Fact]
    public async Task PostgreSql_down_for_25_s_under_two_Maintenance_replicas_loses_and_duplicates_nothing()
    {
        // Longer than the quick retries a failing consumer gets (Messaging:RetryLimit 5: about 6 s) and well inside
        // Messaging:TransientRetry's window (8 min): a prediction consumed meanwhile waits, unacknowledged, and takes effect.
        var outage = TimeSpan.FromSeconds(25);
        await using var rig = await DeliveryRig.StartAsync("pgreplicas", Assets, cluster: true);
        using var replica = rig.StartCloudReplicaProcess();
        await replica.WaitReadyAsync();
        await using var gateway = await ServerFaultTests.StartInProcessGateway(rig);
        await rig.PublishRoundAsync();
        await rig.WaitDeliveredAsync(Assets, "round 1 delivered");

        var stopped = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            // Round 2 reaches the replicas while PostgreSQL is shutting down (57P01 on open connections), round 3 while
            // it is gone (connection refused): both replicas hold predictions they cannot store.
            var stopping = Task.Run(() => LocalDependencies.RunDepsScript("stop postgres"));
            await rig.PublishRoundAsync();
            await stopping;
            stopped.Restart();
            await rig.PublishRoundAsync();
            await rig.WaitDeliveredAsync(Assets * 3, "rounds 2 and 3 at the broker while PostgreSQL is down");
            await Eventually.Until(() => rig.Api.GetAsync(new Uri("/health/ready", UriKind.Relative)), r => r.StatusCode == HttpStatusCode.ServiceUnavailable,
                TimeSpan.FromSeconds(30), "readiness to fail while PostgreSQL is down");
            if (outage - stopped.Elapsed is { Ticks: > 0 } rest)
            {
                await Task.Delay(rest);
            }

            Assert.False(replica.HasExited, "the second replica died with PostgreSQL instead of waiting for it");
        }
        finally
        {
            LocalDependencies.RunDepsScript("start postgres");
        }

        output.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"PostgreSQL down for {stopped.Elapsed.TotalSeconds:0} s"));
        output.WriteLine(await rig.ReconcileAsync(rounds: 3));
        Assert.False(replica.HasExited, "the second replica died with PostgreSQL instead of waiting for it");
        Assert.Empty(await FailedMessagesAsync(rig));
        await Eventually.Until(() => rig.Api.GetAsync(new Uri("/health/ready", UriKind.Relative)), r => r.StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "readiness back once PostgreSQL is");
        await gateway.StopAsync();
    }

    /// <summary>Every _error (consumer gave up) and _dead-letter (broker gave up) queue of the rig's vhost that holds a message.</summary>
    private static async Task<List<string>> FailedMessagesAsync(DeliveryRig rig)
    {
        var endpoint = RabbitMqEndpoint.Parse(rig.Vhost);
        var factory = new ConnectionFactory { HostName = endpoint.Host, Port = endpoint.Port, VirtualHost = endpoint.VirtualHost, UserName = endpoint.Username, Password = endpoint.Password };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var failed = new List<string>();
        var names = LocalDependencies.RunDepsScript($"queues {endpoint.VirtualHost} rabbitmq-cluster")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('\t', ' ')[0])
            .Where(name => name.EndsWith("_error", StringComparison.Ordinal) || name.EndsWith(RabbitQueueTopology.DeadLetterSuffix, StringComparison.Ordinal));
        foreach (var name in names)
        {
            if (await channel.MessageCountAsync(name) is > 0 and var count)
            {
                failed.Add($"{name}: {count}");
            }
        }

        return failed;
    }
}
