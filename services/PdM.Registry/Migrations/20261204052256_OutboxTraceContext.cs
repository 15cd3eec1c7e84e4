using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PdM.Registry.Migrations
{
    /// <inheritdoc />
    public partial class OutboxTraceContext : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "trace_parent",
                schema: "registry",
                table: "outbox",
                type: "character varying(55)",
                maxLength: 55,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "trace_state",
                schema: "registry",
                table: "outbox",
                type: "character varying(512)",
                maxLength: 512,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "trace_parent",
                schema: "registry",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "trace_state",
                schema: "registry",
                table: "outbox");
        }
    }
}
