using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace PdM.Edge.Simulator;

public static class SimulatorModule
{
    /// <summary>Registers the simulator on any host: standalone, or in-process in the all-in-one demo.</summary>
    public static IHostApplicationBuilder AddPlantSimulator(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<SimulatorOptions>().BindConfiguration(SimulatorOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<SimulatorService>();
        builder.Services.AddHostedService<CmapssReplayService>();
        return builder;
    }
}
