using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PdM.Maintenance.Migrations
{
    /// <inheritdoc />
    public partial class CmmsReferenceParkingSyncBackoff : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "cmms_reference",
                schema: "maintenance",
                table: "work_orders",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "next_sync_at",
                schema: "maintenance",
                table: "work_orders",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "parked_reason",
                schema: "maintenance",
                table: "work_orders",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "sync_failures",
                schema: "maintenance",
                table: "work_orders",
                type: "integer",
                nullable: false,
                defaultValue: 0);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "cmms_reference",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "next_sync_at",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "parked_reason",
                schema: "maintenance",
                table: "work_orders");

            migrationBuilder.DropColumn(
                name: "sync_failures",
                schema: "maintenance",
                table: "work_orders");
        }
    }
}
