using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace PdM.Registry.Tests;

public sealed class RegistryStartupTests
{
    [Fact]
    public async Task Outside_development_the_registry_refuses_to_start_without_a_signing_key()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Port=1;Database=unused",
            ["Registry:StateDirectory"] = Path.Combine(Path.GetTempPath(), "pdm-registry-nokey-" + Guid.NewGuid().ToString("N")),
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        RegistryModule.AddRegistry(builder);
        builder.Services.AddSingleton<MassTransit.IBus>(_ => throw new InvalidOperationException("no bus in this test"));
        await using var app = builder.Build();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

        Assert.Contains("Registry:Signing:PrivateKeyPem", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_development_a_key_is_generated_into_the_state_folder_and_reused()
    {
        var state = Path.Combine(Path.GetTempPath(), "pdm-registry-devkey-" + Guid.NewGuid().ToString("N"));
        try
        {
            var first = await KeyIdOfDevelopmentHost(state);
            Assert.True(File.Exists(Path.Combine(state, "signing", "dev-signing-key.pem")));
            Assert.Equal(first, await KeyIdOfDevelopmentHost(state));
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    private static async Task<string> KeyIdOfDevelopmentHost(string state)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Port=1;Database=unused",
            ["Registry:StateDirectory"] = state,
        });
        RegistryModule.AddRegistry(builder);
        await using var app = builder.Build();
        return app.Services.GetRequiredService<Signing.RegistrySigningKey>().Signer.KeyId;
    }
}
