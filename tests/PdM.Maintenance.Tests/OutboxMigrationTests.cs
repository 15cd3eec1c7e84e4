using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using PdM.Maintenance.Outbox;
using PdM.Maintenance.Persistence;
using PdM.Persistence;
using PdM.Testing;

namespace PdM.Maintenance.Tests;

/// <summary>The move to the shared outbox keeps what a running Maintenance had in its outbox (real PostgreSQL, real migrations).</summary>
public sealed class OutboxMigrationTests
{
    private const string BeforeSharedOutbox = "20261125022008_CasesOutboxCmmsDelivery";

    [Fact]
    public async Task Rows_written_before_the_shared_outbox_keep_their_message_ids_and_land_in_the_writers_streams()
    {
        await using var database = await TestDatabase.CreateAsync("maint_outbox_migration");
        await using var db = new MaintenanceDbContext(new DbContextOptionsBuilder<MaintenanceDbContext>()
            .UseNpgsql(database.ConnectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", MaintenanceDbContext.Schema))
            .Options);
        await db.GetService<IMigrator>().MigrateAsync(BeforeSharedOutbox);

        // As the old writer left them: a parked CMMS snapshot and a published event of one work order, and a pending event.
        var workOrder = Guid.NewGuid();
        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var insert = new NpgsqlCommand(
                "INSERT INTO maintenance.outbox (kind, destination, site_id, work_order_id, payload_json, status, attempts, next_attempt_at, last_error, created_at, delivered_at) VALUES " +
                "('Cmms', 'maximo@plant-1', 'plant-1', $1, '{\"workOrderId\":\"x\"}', 'Parked', 12, now(), 'Gave up', now(), NULL), " +
                "('Bus', 'WorkOrderRaised', 'plant-1', $1, '{\"workOrderId\":\"x\"}', 'Delivered', 0, now(), NULL, now(), now()), " +
                "('Bus', 'MaintenanceCaseEscalated', 'plant-1', $1, '{\"workOrderId\":\"x\"}', 'Pending', 2, now(), 'timeout', now(), NULL)", connection);
            insert.Parameters.Add(new NpgsqlParameter { Value = workOrder });
            await insert.ExecuteNonQueryAsync();
        }

        await db.Database.MigrateAsync();

        var rows = await db.Outbox.AsNoTracking().OrderBy(m => m.Id).ToListAsync();
        Assert.Equal(3, rows.Count);
        Assert.Equal(rows.Select(r => LegacyMessageId(r.Id)), rows.Select(r => r.MessageId));
        Assert.Equal(
            [
                (CmmsDelivery.Type, CmmsDelivery.StreamOf(workOrder), OutboxStatus.Parked, 12),
                ("WorkOrderRaised", "work-order:" + workOrder.ToString("N"), OutboxStatus.Delivered, 0),
                ("MaintenanceCaseEscalated", "work-order:" + workOrder.ToString("N"), OutboxStatus.Pending, 2),
            ],
            rows.Select(r => (r.MessageType, r.Stream, r.Status, r.Attempts)));
        Assert.Equal("Gave up", rows[0].LastError);

        // And the table takes new rows: UUIDv7 ids, no default left behind.
        db.Outbox.Add(OutboxMessage.Create("WorkOrderRaised", "{}", "work-order:" + workOrder.ToString("N"), DateTimeOffset.UtcNow));
        await db.SaveChangesAsync();
        Assert.Equal(7, (await db.Outbox.AsNoTracking().OrderBy(m => m.Id).LastAsync()).MessageId.Version);
    }

    /// <summary>The id the old dispatchers published a row with (kept here as the oracle for the migration's SQL).</summary>
    private static Guid LegacyMessageId(long rowId) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"pdm.maintenance.outbox:{rowId}"))).AsSpan(0, 16));
}
