using PdM.Telemetry.Persistence;
using PdM.Persistence;

namespace PdM.Telemetry;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running host or database.</summary>
internal sealed class DesignTimeDbContextFactory() : ModuleDesignTimeDbContextFactory<TelemetryDbContext>(TelemetryDbContext.Schema, options => new TelemetryDbContext(options));
