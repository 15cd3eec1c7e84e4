using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace PdM.Maintenance.Migrations
{
    /// <inheritdoc />
    public partial class CasesOutboxCmmsDelivery : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "case_id",
                schema: "maintenance",
                table: "work_orders",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "closed_at",
                schema: "maintenance",
                table: "work_orders",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "cmms_record_id",
                schema: "maintenance",
                table: "work_orders",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "cmms_status",
                schema: "maintenance",
                table: "work_orders",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "cmms_system",
                schema: "maintenance",
                table: "work_orders",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "cmms_url",
                schema: "maintenance",
                table: "work_orders",
                type: "character varying(1000)",
                maxLength: 1000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "criticality",
                schema: "maintenance",
                table: "work_orders",
                type: "character varying(1)",
                maxLength: 1,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "delivered_at",
                schema: "maintenance",
                table: "work_orders",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "delivery_error",
                schema: "maintenance",
                table: "work_orders",
                type: "character varying(2000)",
                maxLength: 2000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "delivery_state",
                schema: "maintenance",
                table: "work_orders",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "kind",
                schema: "maintenance",
                table: "work_orders",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "last_synced_at",
                schema: "maintenance",
                table: "work_orders",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "latest_finish",
                schema: "maintenance",
                table: "work_orders",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "cases",
                schema: "maintenance",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    site_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    asset_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    failure_mode = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    work_order_id = table.Column<Guid>(type: "uuid", nullable: false),
                    priority = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    criticality = table.Column<string>(type: "character varying(1)", maxLength: 1, nullable: false),
                    confidence = table.Column<double>(type: "double precision", nullable: false),
                    rul_p50_hours = table.Column<double>(type: "double precision", nullable: true),
                    prediction_count = table.Column<int>(type: "integer", nullable: false),
                    suppressed_count = table.Column<int>(type: "integer", nullable: false),
                    escalation_count = table.Column<int>(type: "integer", nullable: false),
                    source_prediction_ids_json = table.Column<string>(type: "jsonb", nullable: false),
                    opened_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    closed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    cooldown_until = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    outcome = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    failure_code = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_cases", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "outbox",
                schema: "maintenance",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    destination = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    site_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    work_order_id = table.Column<Guid>(type: "uuid", nullable: true),
                    payload_json = table.Column<string>(type: "jsonb", nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    delivered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "rejections",
                schema: "maintenance",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    prediction_id = table.Column<Guid>(type: "uuid", nullable: false),
                    site_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    asset_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    failure_mode = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    reason = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    detail = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_rejections", x => x.id);
                });

            // Work orders raised before cases existed: give each its own case, defaults for the new columns, and
            // "NotConfigured" delivery (they were never meant for a CMMS).
            migrationBuilder.Sql("""
                UPDATE maintenance.work_orders SET case_id = gen_random_uuid(), kind = 'workOrder', criticality = 'B',
                    cmms_system = 'none', delivery_state = 'NotConfigured'
                WHERE case_id = '00000000-0000-0000-0000-000000000000';
                INSERT INTO maintenance.cases (id, site_id, asset_id, failure_mode, status, work_order_id, priority, criticality,
                    confidence, rul_p50_hours, prediction_count, suppressed_count, escalation_count, source_prediction_ids_json,
                    opened_at, updated_at)
                SELECT case_id, site_id, asset_id, failure_mode, status, id, priority, 'B', confidence,
                    CASE WHEN rul_unit = 'Hours' THEN rul_p50 END, prediction_count, 0, 0,
                    jsonb_build_array(first_prediction_id, last_prediction_id), created_at, updated_at
                FROM maintenance.work_orders;
                """);

            migrationBuilder.CreateIndex(
                name: "IX_work_orders_case_id",
                schema: "maintenance",
                table: "work_orders",
                column: "case_id");

            migrationBuilder.CreateIndex(
                name: "IX_cases_site_id_asset_id_failure_mode_closed_at",
                schema: "maintenance",
                table: "cases",
                columns: new[] { "site_id", "asset_id", "failure_mode", "closed_at" });

            migrationBuilder.CreateIndex(
                name: "ux_cases_open_condition",
                schema: "maintenance",
                table: "cases",
                columns: new[] { "site_id", "asset_id", "failure_mode" },
                unique: true,
                filter: "status = 'Open'");

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

            migrationBuilder.CreateIndex(
                name: "IX_rejections_received_at",
                schema: "maintenance",
                table: "rejections",
                column: "received_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "cases",
                schema: "maintenance");

            migrationBuilder.DropTable(
                name: "outbox",
                schema: "maintenance");

            migrationBuilder.DropTable(
                name: "rejections",
                schema: "maintenance");

            migrationBuilder.DropIndex(
                name: "IX_work_orders_case_id",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "case_id",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "closed_at",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "cmms_record_id",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "cmms_status",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "cmms_system",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "cmms_url",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "criticality",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "delivered_at",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "delivery_error",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "delivery_state",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "kind",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "last_synced_at",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "latest_finish",
                schema: "maintenance",
                table: "work_orders");
        }
    }
}
