using System;
using Microsoft.EntityFrameworkCore.Migrations;
using PdM.Persistence;

#nullable disable

namespace PdM.Telemetry.Migrations
{
    /// <inheritdoc />
    public partial class SharedOutboxInbox : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_outbox_next_attempt_at",
                schema: "telemetry",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_outbox_published_at",
                schema: "telemetry",
                table: "outbox");

            migrationBuilder.RenameColumn(
                name: "published_at",
                schema: "telemetry",
                table: "outbox",
                newName: "delivered_at");

            migrationBuilder.AddColumn<Guid>(
                name: "message_id",
                schema: "telemetry",
                table: "outbox",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.AddColumn<string>(
                name: "status",
                schema: "telemetry",
                table: "outbox",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "stream",
                schema: "telemetry",
                table: "outbox",
                type: "character varying(200)",
                maxLength: 200,
                nullable: false,
                defaultValue: "");

            // Existing rows keep the message id they were published with; their stream is their training run.
            migrationBuilder.BackfillOutbox("telemetry", "pdm.telemetry.outbox",
                "'training-run:' || coalesce(replace(coalesce(payload_json::jsonb ->> 'runId', payload_json::jsonb ->> 'trainingRunId'), '-', ''), 'unknown')",
                "CASE WHEN delivered_at IS NULL THEN 'Pending' ELSE 'Delivered' END");

            migrationBuilder.CreateTable(
                name: "outbox_lease",
                schema: "telemetry",
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
                schema: "telemetry",
                table: "outbox",
                column: "delivered_at",
                filter: "delivered_at IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_message_id",
                schema: "telemetry",
                table: "outbox",
                column: "message_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_outbox_stream_id",
                schema: "telemetry",
                table: "outbox",
                columns: new[] { "stream", "id" },
                filter: "status = 'Pending'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "outbox_lease",
                schema: "telemetry");

            migrationBuilder.DropIndex(
                name: "IX_outbox_delivered_at",
                schema: "telemetry",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_outbox_message_id",
                schema: "telemetry",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_outbox_stream_id",
                schema: "telemetry",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "message_id",
                schema: "telemetry",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "status",
                schema: "telemetry",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "stream",
                schema: "telemetry",
                table: "outbox");

            migrationBuilder.RenameColumn(
                name: "delivered_at",
                schema: "telemetry",
                table: "outbox",
                newName: "published_at");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_next_attempt_at",
                schema: "telemetry",
                table: "outbox",
                column: "next_attempt_at",
                filter: "published_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_published_at",
                schema: "telemetry",
                table: "outbox",
                column: "published_at",
                filter: "published_at IS NOT NULL");
        }
    }
}
