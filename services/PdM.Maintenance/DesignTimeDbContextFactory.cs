using PdM.Maintenance.Persistence;
using PdM.Persistence;

namespace PdM.Maintenance;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running host or database.</summary>
internal sealed class DesignTimeDbContextFactory() : ModuleDesignTimeDbContextFactory<MaintenanceDbContext>(MaintenanceDbContext.Schema, options => new MaintenanceDbContext(options));
