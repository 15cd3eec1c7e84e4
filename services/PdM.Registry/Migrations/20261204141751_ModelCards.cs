using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PdM.Registry.Migrations
{
    /// <inheritdoc />
    public partial class ModelCards : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "model_cards",
                schema: "registry",
                columns: table => new
                {
                    version_id = table.Column<Guid>(type: "uuid", nullable: false),
                    card_json = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_cards", x => x.version_id);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "model_cards",
                schema: "registry");
        }
    }
}
