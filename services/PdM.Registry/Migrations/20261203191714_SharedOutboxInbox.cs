using System;
using Microsoft.EntityFrameworkCore.Migrations;
using PdM.Persistence;

#nullable disable

namespace PdM.Registry.Migrations
{
    /// <inheritdoc />
    public partial class SharedOutboxInbox : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_outbox_next_attempt_at",
                schema: "registry",
                table: "outbox");

            migrationBuilder.RenameColumn(
                name: "published_at",
                schema: "registry",
                table: "outbox",
                newName: "delivered_at");

            migrationBuilder.AlterColumn<string>(
                name: "payload_json",
                schema: "registry",
                table: "outbox",
                type: "text",
                nullable: false,
                oldClrType: typeof(string),
                oldType: "jsonb");

            migrationBuilder.AddColumn<Guid>(
                name: "message_id",
                schema: "registry",
                table: "outbox",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.AddColumn<string>(
                name: "status",
                schema: "registry",
                table: "outbox",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "stream",
                schema: "registry",
                table: "outbox",
                type: "character varying(200)",
                maxLength: 200,
                nullable: false,
                defaultValue: "");

            // Existing rows keep the message id they were published with; one stream, as before (commit order).
            migrationBuilder.BackfillOutbox("registry", "pdm.registry.outbox", "'registry'",
                "CASE WHEN delivered_at IS NULL THEN 'Pending' ELSE 'Delivered' END");

            migrationBuilder.CreateTable(
                name: "outbox_lease",
                schema: "registry",
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
                schema: "registry",
                table: "outbox",
                column: "delivered_at",
                filter: "delivered_at IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_message_id",
                schema: "registry",
                table: "outbox",
                column: "message_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_outbox_stream_id",
                schema: "registry",
                table: "outbox",
                columns: new[] { "stream", "id" },
                filter: "status = 'Pending'");

            migrationBuilder.CreateIndex(
                name: "IX_inbox_received_at",
                schema: "registry",
                table: "inbox",
                column: "received_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "outbox_lease",
                schema: "registry");

            migrationBuilder.DropIndex(
                name: "IX_outbox_delivered_at",
                schema: "registry",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_outbox_message_id",
                schema: "registry",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_outbox_stream_id",
                schema: "registry",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_inbox_received_at",
                schema: "registry",
                table: "inbox");

            migrationBuilder.DropColumn(
                name: "message_id",
                schema: "registry",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "status",
                schema: "registry",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "stream",
                schema: "registry",
                table: "outbox");

            migrationBuilder.RenameColumn(
                name: "delivered_at",
                schema: "registry",
                table: "outbox",
                newName: "published_at");

            migrationBuilder.AlterColumn<string>(
                name: "payload_json",
                schema: "registry",
                table: "outbox",
                type: "jsonb",
                nullable: false,
                oldClrType: typeof(string),
                oldType: "text");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_next_attempt_at",
                schema: "registry",
                table: "outbox",
                column: "next_attempt_at",
                filter: "published_at IS NULL");
        }
    }
}
