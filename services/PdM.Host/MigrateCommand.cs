using Microsoft.EntityFrameworkCore;

namespace PdM.Host;

/// <summary>
/// <c>PdM.Host migrate</c>: applies the EF Core migrations of the selected modules, reports each, and exits.
/// Migrations never run implicitly on a request path or at service start.
/// </summary>
public static class MigrateCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(HostDefaults.Options(args));
        // EF logs the probe of a missing history table as an error on a fresh database; our own line reports failures.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database", LogLevel.None);
        var modules = ModuleCatalog.Select(builder.Configuration);
        foreach (var module in modules)
        {
            module.AddServices(builder);
        }

        await using var app = builder.Build();
        var exitCode = 0;
        foreach (var module in modules.Where(m => m.DbContextType is not null))
        {
            await using var scope = app.Services.CreateAsyncScope();
            var db = (DbContext)scope.ServiceProvider.GetRequiredService(module.DbContextType!);
            try
            {
                var pending = (await db.Database.GetPendingMigrationsAsync()).ToList();
                await db.Database.MigrateAsync();
                await Console.Out.WriteLineAsync($"migrate: {module.Name}: {(pending.Count == 0 ? "up to date" : "applied " + string.Join(", ", pending))}");
            }
            catch (Exception exception) when (exception is Npgsql.NpgsqlException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"migrate: {module.Name}: FAILED: {exception.Message}");
                exitCode = 1;
            }
        }

        return exitCode;
    }
}
