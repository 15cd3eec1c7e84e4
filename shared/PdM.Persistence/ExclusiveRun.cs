using Npgsql;

namespace PdM.Persistence;

/// <summary>
/// One run of a periodic job that must not run on two replicas at once (CMMS status sync, feature-store partition
/// maintenance): the run holds a PostgreSQL session advisory lock named after the job on a connection of its own, and
/// a replica that finds it taken skips its round. A replica that dies mid-run loses its connection and with it the
/// lock (PostgreSQL releases it), so the next replica's round does the work: nothing to expire, nothing to clean up.
/// </summary>
public static class ExclusiveRun
{
    /// <summary>Runs <paramref name="work"/> if no other replica is running job <paramref name="job"/>; returns false when skipped.</summary>
    public static async Task<bool> TryAsync(NpgsqlDataSource dataSource, string job, Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(work);
        var key = Key(job);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var take = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection))
        {
            take.Parameters.Add(new NpgsqlParameter { Value = key });
            if (await take.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return false;
            }
        }

        try
        {
            await work(cancellationToken);
            return true;
        }
        finally
        {
            // Returned to the pool afterwards: the lock must not travel with the pooled connection.
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", connection);
            release.Parameters.Add(new NpgsqlParameter { Value = key });
            try
            {
                await release.ExecuteScalarAsync(CancellationToken.None);
            }
            catch (NpgsqlException)
            {
                // The connection is broken, so the server has ended the session and released the lock already.
                connection.Close();
            }
        }
    }

    /// <summary>A stable 64-bit key per job name (the first 8 bytes of its SHA-256): the same on every replica and version.</summary>
    public static long Key(string job)
    {
        ArgumentException.ThrowIfNullOrEmpty(job);
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("pdm.exclusive-run:" + job));
        return System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(hash);
    }
}
