using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using PdM.Maintenance.Persistence;

namespace PdM.Maintenance;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running host or database.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<MaintenanceDbContext>
{
    public MaintenanceDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<MaintenanceDbContext>()
            .UseNpgsql("Host=localhost;Database=pdm_design", npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", MaintenanceDbContext.Schema))
            .Options);
}
