using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Npgsql;
using PdM.Hosting;

namespace PdM.Persistence;

public static class PostgresExtensions
{
    /// <summary>Name of the one connection string every module's schema lives behind.</summary>
    public const string ConnectionStringName = "Postgres";

    /// <summary>
    /// Registers the process-wide <see cref="NpgsqlDataSource"/> (one pool for every module) and a readiness check.
    /// Fails at start, not at the first query, when the connection string is missing.
    /// </summary>
    public static TBuilder AddPdMPostgres<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(s => s.ServiceType == typeof(NpgsqlDataSource)))
        {
            return builder;
        }

        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionStringName} is not set (environment: ConnectionStrings__{ConnectionStringName}). " +
                "For local use: eval \"$(infra/local/deps.sh env)\".");
        }

        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString).Build());
        builder.Services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgres", tags: [HostingExtensions.ReadyTag]);

        // Consumers outlast a PostgreSQL restart (the bus's long retry for transient failures) rather than dead-letter.
        builder.Services.AddSingleton(PostgresTransientFailure.Recogniser);
        return builder;
    }
}

internal sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (NpgsqlException exception)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL is not reachable", exception);
        }
    }
}
