using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Data.Sqlite;

namespace PdM.Edge.Journal;

/// <summary>
/// The SQLite side: one connection, used only by the journal's writer loop (and by <see cref="Open"/> before it
/// starts), so SQLite sees exactly one writer and the prepared statements are never shared between threads.
/// </summary>
internal sealed class JournalStore : IDisposable
{
    private const int SchemaVersion = 2;

    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _delete;
    private readonly SqliteCommand _lease;
    private SqliteTransaction? _transaction;

    private JournalStore(SqliteConnection connection, Guid instanceId)
    {
        _connection = connection;
        InstanceId = instanceId;
        _insert = Prepare(
            """
            INSERT INTO entries (message_id, class, message_type, content_type, payload, payload_bytes, original_time, appended_time, attempts, trace_parent, trace_state)
            VALUES ($message_id, $class, $message_type, $content_type, $payload, $payload_bytes, $original_time, $appended_time, 0, $trace_parent, $trace_state)
            RETURNING id
            """,
            "$message_id", "$class", "$message_type", "$content_type", "$payload", "$payload_bytes", "$original_time", "$appended_time", "$trace_parent", "$trace_state");
        _delete = Prepare("DELETE FROM entries WHERE id = $id", "$id");
        _lease = Prepare(
            """
            UPDATE entries SET attempts = attempts + 1 WHERE id = $id
            RETURNING message_id, class, message_type, content_type, payload, original_time, appended_time, attempts, trace_parent, trace_state
            """,
            "$id");
    }

    public Guid InstanceId { get; }

    /// <param name="maxPageCount">Caps the database size in pages (tests use it to make SQLite report a full disk).</param>
    public static JournalStore Open(string path, TimeSpan busyTimeout, long? maxPageCount = null)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // The command timeout, for which Microsoft.Data.Sqlite retries SQLITE_BUSY/SQLITE_LOCKED before throwing.
            DefaultTimeout = (int)Math.Ceiling(busyTimeout.TotalSeconds),
            // Closing must really close the file: the next Open (same process, tests) takes the lock file again.
            Pooling = false,
        }.ToString();
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            var mode = Scalar(connection, "PRAGMA journal_mode=WAL");
            if (!string.Equals(Convert.ToString(mode, CultureInfo.InvariantCulture), "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new JournalStorageException($"SQLite refused WAL mode for '{path}' (journal_mode={mode})");
            }

            // FULL, not NORMAL: in WAL mode NORMAL skips the fsync of the WAL on commit, so an entry whose AppendAsync
            // already returned could vanish on power loss. The caller treats a completed append as "the alert is safe";
            // one fsync per group commit is what that promise costs.
            Execute(connection, "PRAGMA synchronous=FULL");
            Execute(connection, "PRAGMA temp_store=MEMORY");
            if (maxPageCount is { } pages)
            {
                Execute(connection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA max_page_count={pages}"));
            }

            using (var transaction = connection.BeginTransaction())
            {
                // AUTOINCREMENT so ids are never reused after the newest rows are deleted: derived message ids must
                // never repeat, or the cloud's inbox would drop a new message as a duplicate of an old one.
                Execute(connection, transaction,
                    """
                    CREATE TABLE IF NOT EXISTS journal_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE IF NOT EXISTS entries (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        message_id BLOB NULL,
                        class INTEGER NOT NULL,
                        message_type TEXT NOT NULL,
                        content_type TEXT NOT NULL,
                        payload BLOB NOT NULL,
                        payload_bytes INTEGER NOT NULL,
                        original_time INTEGER NOT NULL,
                        appended_time INTEGER NOT NULL,
                        attempts INTEGER NOT NULL,
                        trace_parent TEXT NULL,
                        trace_state TEXT NULL);
                    INSERT OR IGNORE INTO journal_meta (key, value) VALUES ('schema_version', '2');
                    """);
                var version = Scalar(connection, transaction, "SELECT value FROM journal_meta WHERE key = 'schema_version'");
                if (string.Equals(Convert.ToString(version, CultureInfo.InvariantCulture), "1", StringComparison.Ordinal))
                {
                    // Version 1 (before trace contexts): the entries it holds are kept and sent untraced.
                    Execute(connection, transaction,
                        """
                        ALTER TABLE entries ADD COLUMN trace_parent TEXT NULL;
                        ALTER TABLE entries ADD COLUMN trace_state TEXT NULL;
                        UPDATE journal_meta SET value = '2' WHERE key = 'schema_version';
                        """);
                    version = "2";
                }

                if (!string.Equals(Convert.ToString(version, CultureInfo.InvariantCulture), SchemaVersion.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal))
                {
                    throw new JournalStorageException($"Journal '{path}' has schema version {version}; this build reads {SchemaVersion}");
                }

                var instance = Scalar(connection, transaction, "SELECT value FROM journal_meta WHERE key = 'instance_id'") as string;
                Guid instanceId;
                if (instance is null)
                {
                    instanceId = Guid.NewGuid();
                    using var insert = connection.CreateCommand();
                    insert.Transaction = transaction;
                    insert.CommandText = "INSERT INTO journal_meta (key, value) VALUES ('instance_id', $value)";
                    insert.Parameters.AddWithValue("$value", instanceId.ToString("D", CultureInfo.InvariantCulture));
                    insert.ExecuteNonQuery();
                }
                else if (!Guid.TryParse(instance, CultureInfo.InvariantCulture, out instanceId))
                {
                    throw new JournalStorageException($"Journal '{path}' has an unreadable instance id");
                }

                transaction.Commit();
                return new JournalStore(connection, instanceId);
            }
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Highest id ever assigned (AUTOINCREMENT's high-water mark), 0 for a new journal.</summary>
    public long HighestId()
    {
        var value = Scalar(_connection, "SELECT seq FROM sqlite_sequence WHERE name = 'entries'");
        return value is null ? 0 : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    /// <summary>Streams what the in-memory index needs (no payloads), in id order.</summary>
    public void LoadIndex(Action<long, MessageClass, int, long, int> row)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT id, class, payload_bytes, appended_time, attempts FROM entries ORDER BY id";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var messageClass = (MessageClass)reader.GetInt32(1);
            if (!MessageClasses.IsDefined(messageClass))
            {
                throw new JournalStorageException(string.Create(CultureInfo.InvariantCulture, $"Journal entry {reader.GetInt64(0)} has unknown class {reader.GetInt32(1)}"));
            }

            row(reader.GetInt64(0), messageClass, reader.GetInt32(2), reader.GetInt64(3), reader.GetInt32(4));
        }
    }

    public SqliteTransaction Begin()
    {
        var transaction = _connection.BeginTransaction(deferred: false);
        _transaction = transaction;
        _insert.Transaction = transaction;
        _delete.Transaction = transaction;
        _lease.Transaction = transaction;
        return transaction;
    }

    public long Insert(JournalAppend append, long appendedUtcTicks)
    {
        _insert.Parameters[0].Value = append.MessageId is { } messageId ? messageId.ToByteArray(bigEndian: true) : DBNull.Value;
        _insert.Parameters[1].Value = (int)append.Class;
        _insert.Parameters[2].Value = append.MessageType;
        _insert.Parameters[3].Value = append.ContentType;
        _insert.Parameters[4].Value = AsArray(append.Payload);
        _insert.Parameters[5].Value = append.Payload.Length;
        _insert.Parameters[6].Value = append.OriginalTime.UtcTicks;
        _insert.Parameters[7].Value = appendedUtcTicks;
        _insert.Parameters[8].Value = (object?)append.TraceParent ?? DBNull.Value;
        _insert.Parameters[9].Value = (object?)append.TraceState ?? DBNull.Value;
        return Convert.ToInt64(_insert.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public bool Delete(long id)
    {
        _delete.Parameters[0].Value = id;
        return _delete.ExecuteNonQuery() == 1;
    }

    /// <summary>Counts the attempt durably and reads the entry; null when it is gone (acknowledged or dropped meanwhile).</summary>
    public JournalEntry? Lease(long id, bool isReplay)
    {
        _lease.Parameters[0].Value = id;
        using var reader = _lease.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        var messageId = reader.IsDBNull(0) ? MessageIds.Derive(InstanceId, id) : new Guid((byte[])reader.GetValue(0), bigEndian: true);
        return new JournalEntry(
            id,
            messageId,
            (MessageClass)reader.GetInt32(1),
            reader.GetString(2),
            reader.GetString(3),
            (byte[])reader.GetValue(4),
            new DateTimeOffset(reader.GetInt64(5), TimeSpan.Zero),
            new DateTimeOffset(reader.GetInt64(6), TimeSpan.Zero),
            reader.GetInt32(7),
            isReplay)
        {
            TraceParent = reader.IsDBNull(8) ? null : reader.GetString(8),
            TraceState = reader.IsDBNull(9) ? null : reader.GetString(9),
        };
    }

    public string IntegrityCheck()
    {
        using var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = "PRAGMA integrity_check";
        using var reader = command.ExecuteReader();
        var result = new StringBuilder();
        while (reader.Read())
        {
            if (result.Length > 0)
            {
                result.Append('\n');
            }

            result.Append(reader.GetString(0));
        }

        return result.ToString();
    }

    public void Dispose()
    {
        _insert.Dispose();
        _delete.Dispose();
        _lease.Dispose();
        _connection.Dispose();
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        return command;
    }

    private static byte[] AsArray(ReadOnlyMemory<byte> payload) =>
        MemoryMarshal.TryGetArray(payload, out var segment) && segment.Offset == 0 && segment.Array is { } array && array.Length == payload.Length
            ? array
            : payload.ToArray();

    private static object? Scalar(SqliteConnection connection, string sql) => Scalar(connection, null, sql);

    private static object? Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, string sql) => Execute(connection, null, sql);

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
