using Microsoft.Data.Sqlite;

namespace PdM.Edge.Journal.Tests;

/// <summary>The trace context an entry is appended with comes back with it, across a reopen and from a version-1 journal.</summary>
public sealed class TraceContextTests
{
    private const string TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    [Fact]
    public async Task An_entry_keeps_its_trace_context_across_a_reopen()
    {
        using var folder = new TempFolder();
        var options = Journals.Options(folder.Database);
        await using (var journal = EdgeJournal.Open(options))
        {
            await journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction) with { TraceParent = TraceParent, TraceState = "pdm=1" });
            await journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction));
        }

        await using var reopened = EdgeJournal.Open(options);
        var entries = await Journals.LeaseAllAsync(reopened);
        Assert.Equal([TraceParent, null], entries.Select(e => e.TraceParent));
        Assert.Equal(["pdm=1", null], entries.Select(e => e.TraceState));
    }

    [Fact]
    public async Task A_version_1_journal_is_upgraded_and_its_entries_are_sent_untraced()
    {
        using var folder = new TempFolder();
        var options = Journals.Options(folder.Database);
        await using (var journal = EdgeJournal.Open(options))
        {
            await journal.AppendAsync(Journals.Entry(MessageClass.FailurePrediction));
        }

        // What a gateway built before trace contexts left on disk.
        await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = options.ResolvePath(), Pooling = false }.ToString()))
        {
            await connection.OpenAsync();
            await using var downgrade = connection.CreateCommand();
            downgrade.CommandText = """
                ALTER TABLE entries DROP COLUMN trace_parent;
                ALTER TABLE entries DROP COLUMN trace_state;
                UPDATE journal_meta SET value = '1' WHERE key = 'schema_version';
                """;
            await downgrade.ExecuteNonQueryAsync();
        }

        await using var upgraded = EdgeJournal.Open(options);
        await upgraded.AppendAsync(Journals.Entry(MessageClass.FailurePrediction) with { TraceParent = TraceParent });
        var entries = await Journals.LeaseAllAsync(upgraded);
        Assert.Equal([null, TraceParent], entries.Select(e => e.TraceParent));
    }
}
