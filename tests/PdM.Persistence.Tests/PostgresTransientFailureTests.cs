using Npgsql;
using PdM.Hosting;
using PdM.Testing;

namespace PdM.Persistence.Tests;

/// <summary>
/// Which PostgreSQL failures a consumer waits out (the bus's long transient retry) and which go to the _error queue
/// quickly: each exception is produced by the real server, not constructed.
/// </summary>
public sealed class PostgresTransientFailureTests
{
    private static readonly TransientFailure[] Recognisers = [PostgresTransientFailure.Recogniser];

    [Fact]
    public async Task A_connection_terminated_by_the_server_and_a_refused_connection_are_transient_bad_sql_and_constraint_violations_are_not()
    {
        await using var database = await TestDatabase.CreateAsync("transient");

        // 57P01 admin_shutdown, what every open connection gets when PostgreSQL is stopped (fast shutdown).
        await using var victim = new NpgsqlConnection(database.ConnectionString);
        await victim.OpenAsync();
        await using (var admin = new NpgsqlConnection(database.ConnectionString))
        {
            await admin.OpenAsync();
            await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", admin);
            terminate.Parameters.AddWithValue("pid", victim.ProcessID);
            await terminate.ExecuteScalarAsync();
        }

        var terminated = await Assert.ThrowsAnyAsync<NpgsqlException>(() => new NpgsqlCommand("SELECT 1", victim).ExecuteScalarAsync());
        Assert.True(TransientFailure.IsAny(Recognisers, terminated), terminated.ToString());

        // Connection refused: PostgreSQL not running (a port nothing listens on).
        var refused = await Assert.ThrowsAnyAsync<NpgsqlException>(async () =>
        {
            await using var nowhere = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = UnusedPort(), Timeout = 2 }.ConnectionString);
            await nowhere.OpenAsync();
        });
        Assert.True(TransientFailure.IsAny(Recognisers, refused), refused.ToString());

        // EF Core and MassTransit wrap what they catch: the recogniser looks through the chain.
        Assert.True(TransientFailure.IsAny(Recognisers, new InvalidOperationException("likely due to a transient failure", refused)));
        Assert.True(TransientFailure.IsAny(Recognisers, new AggregateException(new TimeoutException(), refused)));

        // A bug or bad data: retried quickly, then _error.
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        var missing = await Assert.ThrowsAsync<PostgresException>(() => new NpgsqlCommand("SELECT * FROM no_such_table", connection).ExecuteScalarAsync());
        Assert.Equal(PostgresErrorCodes.UndefinedTable, missing.SqlState);
        Assert.False(TransientFailure.IsAny(Recognisers, missing));
        await new NpgsqlCommand("CREATE TABLE once (id int PRIMARY KEY); INSERT INTO once VALUES (1)", connection).ExecuteNonQueryAsync();
        var duplicate = await Assert.ThrowsAsync<PostgresException>(() => new NpgsqlCommand("INSERT INTO once VALUES (1)", connection).ExecuteNonQueryAsync());
        Assert.False(TransientFailure.IsAny(Recognisers, new InvalidOperationException("wrapped", duplicate)));
    }

    private static int UnusedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
