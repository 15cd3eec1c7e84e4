using System.Globalization;
using PdM.Testing;
using Xunit.Abstractions;

namespace PdM.Resilience.Tests;

/// <summary>
/// The bound a gateway restart puts on loss (docs/architecture.md, "Delivery guarantees today"): readings are
/// acknowledged once added to a window and only decisions are journaled, so a gateway SIGKILLed while alerts flow loses
/// at most the window each asset had open, and decides no window twice however the broker redelivers what the dead
/// gateway had not acknowledged.
/// </summary>
[Collection(ServerFaults.Name)]
public sealed class GatewayKillInAlertsTests(ITestOutputHelper output)
{
    private const int Assets = 6;

    private const int Kills = 3;

    [Fact]
    public async Task A_gateway_sigkilled_again_and_again_while_alerts_flow_loses_at_most_each_assets_open_window_per_kill_and_decides_no_window_twice()
    {
        await using var rig = await DeliveryRig.StartAsync("gwkillalert", Assets);
        var rounds = 0;
        for (var kill = 1; kill <= Kills; kill++)
        {
            using var gateway = rig.StartGatewayProcess();
            await gateway.WaitReadyAsync();
            var deliveredBefore = rig.Delivered.Count;

            // Rounds without pause (healthy, zone D, healthy per asset): at any moment some asset has an alert window
            // open or just decided, and the gateway's held acknowledgements cover readings whose decisions are journaled.
            using var stopStream = new CancellationTokenSource();
            var stream = Task.Run(async () =>
            {
                while (!stopStream.IsCancellationRequested)
                {
                    await rig.PublishRoundAsync();
                    Interlocked.Increment(ref rounds);
                }
            });
            await rig.WaitDeliveredAsync(deliveredBefore + (Assets * 5), $"five rounds decided before kill {kill}", 90);
            gateway.Kill();
            Assert.False(stream.IsCompleted, "the devices stopped publishing before the kill");
            await stopStream.CancelAsync();
            await stream;
            output.WriteLine($"kill {kill}: {rig.Delivered.Count} predictions seen, {rounds} rounds sent");
        }

        using var last = rig.StartGatewayProcess();
        await last.WaitReadyAsync();
        Assert.Contains(last.Output, l => l.Contains("session resumed: True", StringComparison.Ordinal));
        // A healthy reading per asset closes whatever window the last round left open.
        await rig.PublishHealthyAsync(1);
        var atLeast = Assets * (rounds - Kills);
        await rig.WaitDeliveredAsync(atLeast, $"at least {atLeast} of {Assets * rounds} alert windows decided after the last restart");
        // Settled: nothing more arrives (a redelivered window decided again would come now) and Maintenance folded all of it.
        await Eventually.Until(
            async () => (rig.Delivered.Count, Folded: (await rig.TryGetWorkOrdersAsync())?.Sum(w => w.PredictionCount) ?? -1),
            seen => seen.Folded == seen.Count, TimeSpan.FromSeconds(60), "Maintenance to fold every prediction seen");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var workOrders = await Eventually.Until(() => rig.TryGetWorkOrdersAsync(), list => list is not null, TimeSpan.FromSeconds(30), "the work-order API");
        var folded = workOrders!.Sum(w => w.PredictionCount);
        var inbox = await rig.CountInboxAsync();

        var twice = rig.PredictionsByWindow.Where(w => w.Value.Count > 1).Select(w => $"{w.Key.Asset}@{w.Key.WindowEnd:HH:mm:ss.fff}×{w.Value.Count}").ToList();
        var perAsset = Enumerable.Range(0, Assets).Select(a => $"P{a}")
            .ToDictionary(a => a, a => rig.PredictionsByWindow.Keys.Count(k => k.Asset == a), StringComparer.Ordinal);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{rounds} rounds × {Assets} assets sent, {Kills} kills; windows decided per asset: {string.Join(' ', perAsset.Select(p => $"{p.Key}={p.Value}"))}; " +
            $"predictions {rig.Delivered.Count} (delivered {rig.Delivered.Values.Sum()} times: a window decided again comes under its first id), folded {folded}, inbox {inbox}; decided twice: {twice.Count}"));

        Assert.True(twice.Count == 0, $"windows decided more than once (one work order folds each of them again): {string.Join(", ", twice)}");
        Assert.All(perAsset, p => Assert.InRange(p.Value, rounds - Kills, rounds));
        Assert.Equal(rig.Delivered.Count, folded);
        Assert.Equal(rig.Delivered.Count, inbox);
    }
}
