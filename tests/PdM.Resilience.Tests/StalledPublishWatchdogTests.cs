using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PdM.Messaging;
using PdM.Testing;

namespace PdM.Resilience.Tests;

/// <summary>
/// When the watchdog restarts the bus, on a real (in-memory) MassTransit bus and a manual clock. The broker fault it
/// answers is caused for real in <see cref="ClusterTests"/>; these pin the policy: how long a stall lasts before a
/// restart, that one stalled publisher counts however well the others do, that restarts which do not help space out,
/// and that an unconnected bus is never restarted.
/// </summary>
public sealed class StalledPublishWatchdogTests : IAsyncDisposable
{
    private readonly ManualTimeProvider _clock = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly IBusControl _bus = Bus.Factory.CreateUsingInMemory(_ => { });

    private IMeterFactory Meters => _services.GetRequiredService<IMeterFactory>();

    [Fact]
    public async Task A_publisher_failing_for_30_s_on_a_connected_bus_restarts_it_and_restarts_that_do_not_help_space_out()
    {
        await _bus.StartAsync();
        using var metrics = new MetricRecorder(Meters, StalledPublishWatchdog.MeterName);
        using var watchdog = new StalledPublishWatchdog(_bus, Meters, _clock, NullLogger<StalledPublishWatchdog>.Instance);
        watchdog.Register("uplink");
        var start = _clock.GetUtcNow();

        Assert.False(await FailedAt(watchdog, "uplink", 0));
        // Another publisher delivering meanwhile does not hide the uplink's stall.
        watchdog.Delivered("outbox:maintenance");
        Assert.False(await FailedAt(watchdog, "uplink", 29));
        Assert.True(await FailedAt(watchdog, "uplink", 31));
        Assert.Equal(1, metrics.Total("pdm.bus.restarts", "publisher", "uplink"));
        Assert.Equal(BusHealthStatus.Healthy, _bus.CheckHealth().Status);

        // Still failing after the restart (it did not help): the next one waits 60 s, not 30.
        Assert.False(await FailedAt(watchdog, "uplink", 40));
        Assert.False(await FailedAt(watchdog, "uplink", 75));
        Assert.True(await FailedAt(watchdog, "uplink", 92));
        Assert.Equal(2, metrics.Total("pdm.bus.restarts", "publisher", "uplink"));

        // The uplink delivers: the restart helped, and the next stall is answered after 30 s again.
        watchdog.Delivered("uplink");
        Assert.False(await FailedAt(watchdog, "uplink", 100));
        Assert.True(await FailedAt(watchdog, "uplink", 131));
        Assert.Equal(3, metrics.Total("pdm.bus.restarts", "publisher", "uplink"));

        async Task<bool> FailedAt(StalledPublishWatchdog dog, string publisher, int second)
        {
            _clock.Advance(start + TimeSpan.FromSeconds(second) - _clock.GetUtcNow());
            return await dog.FailedAsync(publisher, _clock.GetUtcNow(), CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_restart_that_fails_to_start_the_bus_again_is_tried_again_although_the_bus_reports_itself_down()
    {
        await _bus.StartAsync();
        using var metrics = new MetricRecorder(Meters, StalledPublishWatchdog.MeterName);
        var bus = FailingStart.Wrap(_bus, failures: 1);
        using var watchdog = new StalledPublishWatchdog(bus, Meters, _clock, NullLogger<StalledPublishWatchdog>.Instance);
        var start = _clock.GetUtcNow();

        // The first restart stops the bus and fails to start it: the bus is down, by the watchdog's own hand.
        Assert.False(await FailedAt(0));
        Assert.True(await FailedAt(31));
        Assert.NotEqual(BusHealthStatus.Healthy, _bus.CheckHealth().Status);

        // The publisher still fails: the next restart (60 s after the last one) must come although the bus reports itself
        // not connected, or nothing would ever start it again.
        Assert.False(await FailedAt(60));
        Assert.True(await FailedAt(92));
        Assert.Equal(2, metrics.Total("pdm.bus.restarts", "publisher", "uplink"));
        Assert.Equal(BusHealthStatus.Healthy, _bus.CheckHealth().Status);

        async Task<bool> FailedAt(int second)
        {
            _clock.Advance(start + TimeSpan.FromSeconds(second) - _clock.GetUtcNow());
            return await watchdog.FailedAsync("uplink", start, CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_bus_that_is_not_connected_is_never_restarted()
    {
        // Never started: not connected, as during an outage (MassTransit reconnects by itself; a restart would interrupt it).
        using var metrics = new MetricRecorder(Meters, StalledPublishWatchdog.MeterName);
        using var watchdog = new StalledPublishWatchdog(_bus, Meters, _clock, NullLogger<StalledPublishWatchdog>.Instance);
        Assert.NotEqual(BusHealthStatus.Healthy, _bus.CheckHealth().Status);
        var sentAt = _clock.GetUtcNow();
        for (var i = 0; i < 10; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(30));
            Assert.False(await watchdog.FailedAsync("outbox:maintenance", sentAt, CancellationToken.None));
        }

        Assert.Equal(0, metrics.Total("pdm.bus.restarts"));
    }

    [Fact]
    public async Task The_stall_limit_is_the_hosts_Messaging_StalledPublishRestartAfter()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Messaging:StalledPublishRestartAfter"] = "00:00:12" });
        builder.Services.AddSingleton<TimeProvider>(_clock);
        builder.AddPdMMessaging();
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var watchdog = host.Services.GetRequiredService<StalledPublishWatchdog>();
            Assert.Equal(BusHealthStatus.Healthy, host.Services.GetRequiredService<IBusControl>().CheckHealth().Status);
            var sentAt = _clock.GetUtcNow();
            _clock.Advance(TimeSpan.FromSeconds(11));
            Assert.False(await watchdog.FailedAsync("uplink", sentAt, CancellationToken.None));
            _clock.Advance(TimeSpan.FromSeconds(2));
            Assert.True(await watchdog.FailedAsync("uplink", sentAt, CancellationToken.None));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void A_host_refuses_a_stall_limit_short_enough_to_restart_in_the_middle_of_an_election()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Messaging:StalledPublishRestartAfter"] = "00:00:01" });
        builder.AddPdMMessaging();
        using var host = builder.Build();

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("StalledPublishRestartAfter", error.Message, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        await _bus.StopAsync();
        await _services.DisposeAsync();
    }
}

/// <summary>
/// The real bus, whose first <c>StartAsync</c> calls fail without starting it (as a start that times out on an
/// unreachable broker would): every other call goes to the bus itself.
/// </summary>
public class FailingStart : System.Reflection.DispatchProxy
{
    private IBusControl _bus = null!;
    private int _failures;

    public static IBusControl Wrap(IBusControl bus, int failures)
    {
        var proxy = Create<IBusControl, FailingStart>();
        var self = (FailingStart)(object)proxy;
        self._bus = bus;
        self._failures = failures;
        return proxy;
    }

    protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name == nameof(IBusControl.StartAsync) && Interlocked.Decrement(ref _failures) >= 0)
        {
            return Task.FromException<BusHandle>(new TimeoutException("the bus did not start within its timeout"));
        }

        try
        {
            return targetMethod.Invoke(_bus, args);
        }
        catch (System.Reflection.TargetInvocationException exception) when (exception.InnerException is not null)
        {
            throw exception.InnerException;
        }
    }
}
