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
        var tally = await rig.SettleWindowsAsync(Assets * (rounds - Kills), $"at least {Assets * (rounds - Kills)} of {Assets * rounds} alert windows decided after the last restart");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rounds} rounds × {Assets} assets sent, {Kills} kills; {tally}"));

        Assert.True(tally.DecidedTwice.Count == 0, $"windows decided more than once (one work order folds each of them again): {string.Join(", ", tally.DecidedTwice)}");
        Assert.All(tally.WindowsPerAsset, p => Assert.InRange(p.Value, rounds - Kills, rounds));
        Assert.Equal(tally.Predictions, tally.Folded);
        Assert.Equal(tally.Predictions, tally.Inbox);
    }
}
