using Microsoft.Extensions.Hosting;
using PdM.Edge.Simulator;

var builder = Host.CreateApplicationBuilder(args);
builder.AddPlantSimulator();
await builder.Build().RunAsync();
