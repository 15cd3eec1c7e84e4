using PdM.Registry.Persistence;
using PdM.Persistence;

namespace PdM.Registry;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running host or database.</summary>
internal sealed class DesignTimeDbContextFactory() : ModuleDesignTimeDbContextFactory<RegistryDbContext>(RegistryDbContext.Schema, options => new RegistryDbContext(options));
