using System;
using Microsoft.EntityFrameworkCore.Migrations;
using PdM.Persistence;

#nullable disable

namespace PdM.Maintenance.Migrations
{
    /// <inheritdoc />
    public partial class SharedOutboxInbox : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_outbox_status_next_attempt_at",
                schema: "maintenance",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_outbox_work_order_id",
                schema: "maintenance",
                table: "outbox");

            migrationBuilder.RenameColumn(
                name: "destination",
                schema: "maintenance",
                table: "outbox",
                newName: "stream");

            migrationBuilder.AlterColumn<string>(
                name: "payload_json",
                schema: "maintenance",
                table: "outbox",
                type: "text",
                nullable: false,
                oldClrType: typeof(string),
                oldType: "jsonb");

            migrationBuilder.AddColumn<Guid>(
                name: "message_id",
                schema: "maintenance",
                table: "outbox",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.AddColumn<string>(
                name: "message_type",
                schema: "maintenance",
                table: "outbox",
                type: "character varying(100)",
                maxLength: 100,
                nullable: false,
                defaultValue: "");

            // Old rows: a CMMS row (kind Cmms, destination = endpoint) or a bus row (destination = type), both for one
            // work order. They keep the message id they were published with and get the streams the writer now uses.
            migrationBuilder.Sql("UPDATE maintenance.outbox SET message_type = CASE kind WHEN 'Cmms' THEN 'cmms' ELSE stream END;");
            migrationBuilder.BackfillOutbox("maintenance", "pdm.maintenance.outbox",
                "CASE kind WHEN 'Cmms' THEN 'cmms:' ELSE 'work-order:' END || coalesce(replace(work_order_id::text, '-', ''), 'none')",
                "status");

            migrationBuilder.DropColumn(
                name: "kind",
                schema: "maintenance",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "site_id",
                schema: "maintenance",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "work_order_id",
                schema: "maintenance",
                table: "outbox");

            migrationBuilder.CreateTable(
                name: "outbox_lease",
                schema: "maintenance",
                columns: table => new
                {
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    holder = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox_lease", x => x.name);
                });

            migrationBuilder.CreateIndex(
                name: "IX_outbox_delivered_at",
                schema: "maintenance",
                table: "outbox",
                column: "delivered_at",
                filter: "delivered_at IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_message_id",
                schema: "maintenance",
                table: "outbox",
                column: "message_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_outbox_stream_id",
                schema: "maintenance",
                table: "outbox",
                columns: new[] { "stream", "id" },
                filter: "status = 'Pending'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "outbox_lease",
                schema: "maintenance");

            migrationBuilder.DropIndex(
                name: "IX_outbox_delivered_at",
                schema: "maintenance",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_outbox_message_id",
                schema: "maintenance",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_outbox_stream_id",
                schema: "maintenance",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "message_id",
                schema: "maintenance",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "message_type",
                schema: "maintenance",
                table: "outbox");

            migrationBuilder.RenameColumn(
                name: "stream",
                schema: "maintenance",
                table: "outbox",
                newName: "destination");

            migrationBuilder.AlterColumn<string>(
                name: "payload_json",
                schema: "maintenance",
                table: "outbox",
                type: "jsonb",
                nullable: false,
                oldClrType: typeof(string),
                oldType: "text");

            migrationBuilder.AddColumn<string>(
                name: "kind",
                schema: "maintenance",
                table: "outbox",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "site_id",
                schema: "maintenance",
                table: "outbox",
                type: "character varying(64)",
                maxLength: 64,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<Guid>(
                name: "work_order_id",
                schema: "maintenance",
                table: "outbox",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_outbox_status_next_attempt_at",
                schema: "maintenance",
                table: "outbox",
                columns: new[] { "status", "next_attempt_at" },
                filter: "status = 'Pending'");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_work_order_id",
                schema: "maintenance",
                table: "outbox",
                column: "work_order_id");
        }
    }
}
