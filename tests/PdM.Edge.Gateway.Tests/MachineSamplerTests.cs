using PdM.Edge.Gateway.Heartbeat;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// The heartbeat's machine CPU read from a <c>/proc</c> written by the test: a sample taken before the counters move
/// (the first heartbeat, at start, can be) leaves it out rather than report a made-up figure, and the next sample
/// covers the interval since the start.
/// </summary>
public sealed class MachineSamplerTests : IDisposable
{
    private readonly string _proc = Directory.CreateTempSubdirectory("pdm-proc-").FullName;

    public void Dispose() => Directory.Delete(_proc, recursive: true);

    [Fact]
    public void A_sample_before_the_counters_move_leaves_the_machine_CPU_out_and_the_next_covers_the_whole_interval()
    {
        // user nice system idle iowait irq softirq steal
        Stat(1000, 0, 500, 8000, 500);
        File.WriteAllText(Path.Combine(_proc, "meminfo"), "MemTotal:       24000000 kB\nMemAvailable:   12000000 kB\n");
        var sampler = new MachineSampler(_proc);

        var atStart = sampler.Sample();
        Assert.Null(atStart.HostCpuPercent);
        Assert.Equal(24000000L * 1024, atStart.HostMemoryTotalBytes);

        // 200 ticks later, 50 of them busy.
        Stat(1030, 0, 520, 8140, 510);
        Assert.Equal(25.0, sampler.Sample().HostCpuPercent);

        // And from then on, interval by interval: 100 ticks, 90 busy.
        Stat(1100, 0, 540, 8150, 510);
        Assert.Equal(90.0, sampler.Sample().HostCpuPercent);
    }

    private void Stat(long user, long nice, long system, long idle, long iowait) =>
        File.WriteAllText(Path.Combine(_proc, "stat"), $"cpu  {user} {nice} {system} {idle} {iowait} 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n");
}
