using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace PdM.Architecture.Tests;

/// <summary>
/// What a plant installs: the gateway as published carries no database driver, no EF Core and no JWT bearer handler
/// (those are the cloud's). Read from the published deps.json, which lists every assembly the gateway loads.
/// </summary>
public sealed class GatewayPublishTests
{
    private static readonly string[] CloudOnly = ["Npgsql", "Microsoft.EntityFrameworkCore", "Microsoft.AspNetCore.Authentication.JwtBearer"];

    [Fact]
    public async Task The_published_gateway_ships_no_Npgsql_EF_Core_or_JwtBearer()
    {
        var output = Directory.CreateTempSubdirectory("pdm-gateway-publish-");
        try
        {
            await PublishGatewayAsync(output.FullName);

            using var deps = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output.FullName, "PdM.Edge.Gateway.deps.json")));
            var libraries = deps.RootElement.GetProperty("libraries").EnumerateObject()
                .Select(library => library.Name[..library.Name.IndexOf('/', StringComparison.Ordinal)])
                .ToArray();
            Assert.Contains("MQTTnet", libraries); // the file is the gateway's, read right

            var shipped = libraries
                .Concat(Directory.EnumerateFiles(output.FullName, "*.dll").Select(Path.GetFileNameWithoutExtension)!)
                .Where(name => CloudOnly.Any(prefix => name!.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
                .Distinct();
            Rule.Holds(shipped!);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    private static async Task PublishGatewayAsync(string output)
    {
        // Publish what this test run was built from (the test references the gateway, so it is built).
        var configuration = typeof(GatewayPublishTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var gateway = Product.Get("PdM.Edge.Gateway").ProjectFile;
        var start = new ProcessStartInfo("dotnet", ["publish", gateway, "--no-build", "-c", configuration, "-o", output, "-nologo", "-v", "quiet"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"dotnet publish failed ({process.ExitCode}): {await stdout}{await stderr}");
    }
}
