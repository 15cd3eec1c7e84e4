using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace PdM.Persistence;

/// <summary>How a cloud module's DbContext meets PostgreSQL: the one shared data source, and its migration history in the module's own schema.</summary>
public static class ModuleDatabase
{
    /// <summary>Each module keeps its migration history in its own schema, so modules migrate independently.</summary>
    public const string MigrationsHistoryTable = "__ef_migrations_history";

    /// <summary>
    /// Registers <typeparamref name="TContext"/> on the process-wide data source (<see cref="PostgresExtensions.AddPdMPostgres"/>)
    /// with its migration history in <paramref name="schema"/>, and the system clock every module's persistence reads unless a test replaced it.
    /// </summary>
    public static IHostApplicationBuilder AddPdMModuleDbContext<TContext>(this IHostApplicationBuilder builder, string schema)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(schema);
        builder.AddPdMPostgres();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddDbContext<TContext>((services, options) =>
            options.UseNpgsql(services.GetRequiredService<NpgsqlDataSource>(), npgsql => npgsql.MigrationsHistoryTable(MigrationsHistoryTable, schema)));
        return builder;
    }
}

/// <summary>
/// Lets <c>dotnet ef migrations add</c> build a module's model without a running host or database. Each module derives one
/// (the tools look for a concrete <see cref="IDesignTimeDbContextFactory{TContext}"/> in its assembly).
/// </summary>
public abstract class ModuleDesignTimeDbContextFactory<TContext>(string schema, Func<DbContextOptions<TContext>, TContext> create)
    : IDesignTimeDbContextFactory<TContext>
    where TContext : DbContext
{
    public TContext CreateDbContext(string[] args) =>
        create(new DbContextOptionsBuilder<TContext>()
            .UseNpgsql("Host=localhost;Database=pdm_design", npgsql => npgsql.MigrationsHistoryTable(ModuleDatabase.MigrationsHistoryTable, schema))
            .Options);
}
