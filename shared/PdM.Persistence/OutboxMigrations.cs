using Microsoft.EntityFrameworkCore.Migrations;

namespace PdM.Persistence;

/// <summary>What each module's migration to the shared outbox does to the rows it already has.</summary>
public static class OutboxMigrations
{
    /// <summary>
    /// Fills <c>message_id</c>, <c>stream</c> and <c>status</c> of the rows already in <paramref name="schema"/>.outbox
    /// (SQL expressions over the old columns), then drops the defaults <c>AddColumn</c> left behind. Run it after the
    /// columns are added and before the unique index on <c>message_id</c>.
    /// </summary>
    public static void BackfillOutbox(this MigrationBuilder migration, string schema, string legacyOutboxName, string streamSql, string statusSql)
    {
        ArgumentNullException.ThrowIfNull(migration);
        migration.Sql(
            $"UPDATE \"{schema}\".outbox SET message_id = {LegacyMessageId(legacyOutboxName)}, stream = {streamSql}, status = {statusSql};");
        foreach (var column in new[] { "message_id", "stream", "status", "message_type" })
        {
            migration.Sql($"ALTER TABLE \"{schema}\".outbox ALTER COLUMN {column} DROP DEFAULT;");
        }
    }

    /// <summary>
    /// The message id a row written before the shared outbox was published with, so a retry after the upgrade is still
    /// recognised by the inboxes: SHA-256 of <c>"{outbox}:{id}"</c>, first 16 bytes, as .NET's <c>new Guid(bytes)</c>
    /// reads them (the first three fields little-endian, hence the byte swaps).
    /// </summary>
    public static string LegacyMessageId(string legacyOutboxName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(legacyOutboxName);
        var hex = $"encode(substring(sha256(convert_to('{legacyOutboxName.Replace("'", "''", StringComparison.Ordinal)}:' || id::text, 'UTF8')) from 1 for 16), 'hex')";
        return $"(substr({hex}, 7, 2) || substr({hex}, 5, 2) || substr({hex}, 3, 2) || substr({hex}, 1, 2) || " +
               $"substr({hex}, 11, 2) || substr({hex}, 9, 2) || substr({hex}, 15, 2) || substr({hex}, 13, 2) || substr({hex}, 17, 16))::uuid";
    }
}
