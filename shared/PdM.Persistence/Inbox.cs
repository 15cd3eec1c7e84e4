using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace PdM.Persistence;

/// <summary>
/// The one inbox dedup every consumer uses: records (message id, consumer) in the caller's open transaction and says
/// whether this is the first time. The caller commits its effect in that same transaction, so a redelivery (broker
/// retry, outbox retry, gateway replay) finds the row and does nothing.
/// </summary>
public static class Inbox
{
    /// <summary>True the first time <paramref name="consumer"/> sees <paramref name="messageId"/>; false for a redelivery.</summary>
    public static async Task<bool> TryRecordAsync(DbContext db, Guid messageId, string consumer, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        // {n}: EF Core turns the values into parameters (it passes unnamed DbParameters on without binding them).
        var sql = Insert(OutboxModel.Table<InboxMessage>(db), "{0}", "{1}", "{2}");
        return await db.Database.ExecuteSqlRawAsync(sql, [messageId, consumer, now], cancellationToken) == 1;
    }

    /// <summary>The same for code that works on a raw connection (binary COPY); <paramref name="schema"/> is the module's.</summary>
    public static async Task<bool> TryRecordAsync(NpgsqlConnection connection, string schema, Guid messageId, string consumer, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrWhiteSpace(schema);
        await using var command = new NpgsqlCommand(Insert($"\"{schema}\".\"inbox\"", "$1", "$2", "$3"), connection);
        command.Parameters.Add(Parameter(messageId));
        command.Parameters.Add(Parameter(consumer));
        command.Parameters.Add(Parameter(now));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static string Insert(string table, string messageId, string consumer, string receivedAt) =>
        $"INSERT INTO {table} (message_id, consumer, received_at) VALUES ({messageId}, {consumer}, {receivedAt}) ON CONFLICT DO NOTHING";

    private static NpgsqlParameter Parameter(object value) => new() { Value = value };
}
