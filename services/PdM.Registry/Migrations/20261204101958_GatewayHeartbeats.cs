using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PdM.Registry.Migrations
{
    /// <inheritdoc />
    public partial class GatewayHeartbeats : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "gateways",
                schema: "registry",
                columns: table => new
                {
                    gateway_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    site_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    heartbeat_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    interval_seconds = table.Column<int>(type: "integer", nullable: false),
                    clock_offset_ms = table.Column<double>(type: "double precision", nullable: true),
                    gateway_version = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    egress_policy_version = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    heartbeat = table.Column<string>(type: "jsonb", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_gateways", x => x.gateway_id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_gateways_site_id",
                schema: "registry",
                table: "gateways",
                column: "site_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "gateways",
                schema: "registry");
        }
    }
}
