using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PdM.Maintenance.Migrations
{
    /// <inheritdoc />
    public partial class InitialMaintenance : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "maintenance");

            migrationBuilder.CreateTable(
                name: "inbox",
                schema: "maintenance",
                columns: table => new
                {
                    message_id = table.Column<Guid>(type: "uuid", nullable: false),
                    consumer = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_inbox", x => new { x.message_id, x.consumer });
                });

            migrationBuilder.CreateTable(
                name: "work_orders",
                schema: "maintenance",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    site_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    asset_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    failure_mode = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    priority = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    severity = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    health_state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    confidence = table.Column<double>(type: "double precision", nullable: false),
                    rul_p50 = table.Column<double>(type: "double precision", nullable: true),
                    rul_unit = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    external_key = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    first_prediction_id = table.Column<Guid>(type: "uuid", nullable: false),
                    last_prediction_id = table.Column<Guid>(type: "uuid", nullable: false),
                    prediction_count = table.Column<int>(type: "integer", nullable: false),
                    provenance_json = table.Column<string>(type: "jsonb", nullable: false),
                    evidence_json = table.Column<string>(type: "jsonb", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_predicted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_work_orders", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_inbox_received_at",
                schema: "maintenance",
                table: "inbox",
                column: "received_at");

            migrationBuilder.CreateIndex(
                name: "IX_work_orders_external_key",
                schema: "maintenance",
                table: "work_orders",
                column: "external_key",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ux_work_orders_open_condition",
                schema: "maintenance",
                table: "work_orders",
                columns: new[] { "site_id", "asset_id", "failure_mode" },
                unique: true,
                filter: "status = 'Open'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "inbox",
                schema: "maintenance");

            migrationBuilder.DropTable(
                name: "work_orders",
                schema: "maintenance");
        }
    }
}
