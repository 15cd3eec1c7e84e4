using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using PdM.Registry.Persistence;

namespace PdM.Registry;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running host or database.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<RegistryDbContext>
{
    public RegistryDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<RegistryDbContext>()
            .UseNpgsql("Host=localhost;Database=pdm_design", npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", RegistryDbContext.Schema))
            .Options);
}
