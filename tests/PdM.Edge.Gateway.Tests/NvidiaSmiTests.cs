using PdM.Edge.Gateway.Heartbeat;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// The heartbeat's GPU figures from real <c>nvidia-smi --query-gpu … --format=csv</c> output (this machine has no GPU).
/// </summary>
public sealed class NvidiaSmiTests
{
    /// <summary>
    /// Recorded on an NVIDIA RTX PRO 6000 Blackwell Workstation Edition (Windows, 2026-06-07), published in a public
    /// session log: every figure supported.
    /// </summary>
    private const string RtxPro6000 = """
        name, temperature.gpu, fan.speed [%], utilization.gpu [%], power.draw [W], power.limit [W], memory.used [MiB], memory.total [MiB], clocks.current.graphics [MHz]
        NVIDIA RTX PRO 6000 Blackwell Workstation Edition, 29, 30 %, 10 %, 26.47 W, 600.00 W, 2082 MiB, 97887 MiB, 517 MHz
        """;

    /// <summary>
    /// Recorded on an NVIDIA GB10 (DGX Spark, driver 580.173.02, 2026-09-14), published in a public run log ("DGX Spark
    /// basic GPU telemetry verified", RUN-0022): the integrated GPU shares system memory, so memory and the power cap
    /// are <c>[N/A]</c>.
    /// </summary>
    private const string Gb10 = """
        name, driver_version, temperature.gpu, utilization.gpu [%], utilization.memory [%], power.draw [W], power.limit [W], memory.used [MiB], memory.total [MiB]
        NVIDIA GB10, 580.173.02, 39, 0 %, 0 %, 5.04 W, [N/A], [N/A], [N/A]
        """;

    [Fact]
    public void Every_supported_figure_is_read_with_its_unit()
    {
        var gpu = Assert.Single(NvidiaSmi.Parse(RtxPro6000));
        Assert.Equal(0, gpu.Index);
        Assert.Equal("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", gpu.Name);
        Assert.Equal(10, gpu.UtilizationPercent);
        Assert.Equal(29, gpu.TemperatureC);
        Assert.Equal(26.47, gpu.PowerDrawWatts);
        Assert.Equal(600, gpu.PowerLimitWatts);
        Assert.Equal(2082L * 1024 * 1024, gpu.MemoryUsedBytes);
        Assert.Equal(97887L * 1024 * 1024, gpu.MemoryTotalBytes);
    }

    [Fact]
    public void A_figure_the_GPU_does_not_report_is_absent_not_zero()
    {
        var gpu = Assert.Single(NvidiaSmi.Parse(Gb10));
        Assert.Equal("NVIDIA GB10", gpu.Name);
        Assert.Equal(0, gpu.UtilizationPercent);
        Assert.Equal(39, gpu.TemperatureC);
        Assert.Equal(5.04, gpu.PowerDrawWatts);
        Assert.Null(gpu.PowerLimitWatts);
        Assert.Null(gpu.MemoryUsedBytes);
        Assert.Null(gpu.MemoryTotalBytes);
    }

    [Fact]
    public void The_gateways_own_query_order_and_several_GPUs_are_read_by_column_name()
    {
        // The gateway's query (NvidiaSmi.Query) puts index first; the rows are the GB10 and RTX figures above.
        var gpus = NvidiaSmi.Parse("""
            index, name, utilization.gpu [%], memory.used [MiB], memory.total [MiB], temperature.gpu, power.draw [W], power.limit [W]
            0, NVIDIA GB10, 0 %, [N/A], [N/A], 39, 5.04 W, [N/A]
            1, NVIDIA RTX PRO 6000 Blackwell Workstation Edition, 10 %, 2082 MiB, 97887 MiB, 29, 26.47 W, 600.00 W
            """);
        Assert.Equal([0, 1], gpus.Select(g => g.Index));
        Assert.Null(gpus[0].MemoryUsedBytes);
        Assert.Equal(600, gpus[1].PowerLimitWatts);
    }
}
