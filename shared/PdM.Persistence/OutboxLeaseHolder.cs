using System.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace PdM.Persistence;

/// <summary>
/// This replica's hold on a module's outbox lease. Times are PostgreSQL's (<c>clock_timestamp()</c>), not the
/// replicas': replicas on different machines compare against one clock, so a skewed clock cannot take a live lease.
/// Unlike the session advisory lock this replaces, a lease also ends when its holder is frozen or cut off with its
/// connection still open: it simply stops being renewed.
/// </summary>
internal sealed class OutboxLeaseHolder(string holder, TimeSpan duration, TimeProvider clock)
{
    private long _renewedAt = long.MinValue;

    public string Holder { get; } = holder;

    /// <summary>Takes the lease if it is free or expired, renews it if it is ours; false while another replica holds it.</summary>
    public async Task<bool> AcquireAsync(DbContext db, CancellationToken cancellationToken)
    {
        // Counted from before asking: the database renews no earlier than that, so a renewal whose answer came back
        // late (this replica frozen or stalled after the database made it) is already old, and KeepAsync asks again
        // before the next delivery rather than trusting a lease that may have run out and been taken over meanwhile.
        var asked = clock.GetTimestamp();
        var table = OutboxModel.Table<OutboxLease>(db);
        var held = await ExecuteAsync(db,
            $"INSERT INTO {table} AS l (name, holder, expires_at) VALUES ($1, $2, clock_timestamp() + $3) " +
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at " +
            "WHERE l.holder = excluded.holder OR l.expires_at < clock_timestamp()",
            cancellationToken, OutboxModel.LeaseName, Holder, duration) == 1;
        _renewedAt = held ? asked : long.MinValue;
        return held;
    }

    /// <summary>
    /// Before each delivery: renews once a third of the lease has passed, so a live holder never lets it run out
    /// (a publish takes at most the publish timeout, at most half the lease; a module's handler bounds its deliveries the
    /// same way, Maintenance's with <c>Delivery:AttemptTimeout</c>). False when the lease was lost meanwhile
    /// (this replica was frozen past expiry and another took over): stop delivering.
    /// </summary>
    public Task<bool> KeepAsync(DbContext db, CancellationToken cancellationToken) =>
        _renewedAt != long.MinValue && clock.GetElapsedTime(_renewedAt) < duration / 3
            ? Task.FromResult(true)
            : AcquireAsync(db, cancellationToken);

    /// <summary>On a clean stop: another replica need not wait for the expiry.</summary>
    public async Task ReleaseAsync(DbContext db, CancellationToken cancellationToken)
    {
        _renewedAt = long.MinValue;
        await ExecuteAsync(db, $"DELETE FROM {OutboxModel.Table<OutboxLease>(db)} WHERE name = $1 AND holder = $2",
            cancellationToken, OutboxModel.LeaseName, Holder);
    }

    private static async Task<int> ExecuteAsync(DbContext db, string sql, CancellationToken cancellationToken, params object[] values)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var opened = connection.State != ConnectionState.Open;
        if (opened)
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
        }

        try
        {
            await using var command = new NpgsqlCommand(sql, connection);
            foreach (var value in values)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = value });
            }

            return await command.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            if (opened)
            {
                await db.Database.CloseConnectionAsync();
            }
        }
    }
}
