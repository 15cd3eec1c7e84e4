using Npgsql;
using PdM.Hosting;

namespace PdM.Persistence;

/// <summary>
/// PostgreSQL failures a consumer outlasts instead of dead-lettering its message: what a restart, a fail-over or a
/// full connection table looks like from the client. Everything else (a constraint violation, a missing table, bad SQL)
/// is a bug or bad data and goes to the _error queue after the quick retries.
/// </summary>
public static class PostgresTransientFailure
{
    public static TransientFailure Recogniser { get; } = new("postgres", Recognises);

    public static bool Recognises(Exception exception) => exception switch
    {
        // The server is going away or not accepting yet: admin_shutdown (57P01, a fast or smart stop), crash_shutdown
        // (57P02), cannot_connect_now (57P03, starting up or in recovery). Npgsql does not count 57P01/57P02 as transient.
        PostgresException postgres => postgres.IsTransient
            || postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,

        // No server at all: connection refused, reset or broken mid-command, pool timeout while it is down.
        NpgsqlException npgsql => npgsql.IsTransient,
        _ => false,
    };
}
