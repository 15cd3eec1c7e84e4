using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using PdM.Lineage.Persistence;

namespace PdM.Lineage;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running host or database.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<LineageDbContext>
{
    public LineageDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<LineageDbContext>()
            .UseNpgsql("Host=localhost;Database=pdm_design", npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", LineageDbContext.Schema))
            .Options);
}
