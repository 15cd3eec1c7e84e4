using PdM.Lineage.Persistence;
using PdM.Persistence;

namespace PdM.Lineage;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running host or database.</summary>
internal sealed class DesignTimeDbContextFactory() : ModuleDesignTimeDbContextFactory<LineageDbContext>(LineageDbContext.Schema, options => new LineageDbContext(options));
