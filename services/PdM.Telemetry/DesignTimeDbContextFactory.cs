using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using PdM.Telemetry.Persistence;

namespace PdM.Telemetry;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running host or database.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<TelemetryDbContext>
{
    public TelemetryDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<TelemetryDbContext>()
            .UseNpgsql("Host=localhost;Database=pdm_design", npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", TelemetryDbContext.Schema))
            .Options);
}
