using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdM.Host;
using PdM.ModelPackage.Signing;
using PdM.Security;
using PdM.Testing;

namespace PdM.Security.Tests;

[CollectionDefinition(Name)]
public sealed class SecuritySuite : ICollectionFixture<SecurityFixture>
{
    public const string Name = "security";
}

/// <summary>
/// The PdM.Host executable's composition (<see cref="HostComposition"/>) with <c>PdM:Modules=all</c>, migrated by its
/// own <c>migrate</c> command: a fresh PostgreSQL database, a RabbitMQ vhost of its own, Production environment (so no
/// development issuer), and a <see cref="TestTokenIssuer"/> trusted through <c>Auth:StaticIssuers</c>.
/// </summary>
public sealed class SecurityFixture : IAsyncLifetime
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), "pdm-security-test-" + Guid.NewGuid().ToString("N"));
    private TestClients? _clients;
    private TestDatabase? _database;
    private WebApplication? _app;

    public TestTokenIssuer Tokens { get; } = new();

    public LogCapture Logs { get; } = new();

    public Uri Address { get; private set; } = null!;

    public IServiceProvider Services => _app!.Services;

    /// <summary>Acts as an admin.</summary>
    public HttpClient Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync("security");
        var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("security"));
        using var signer = PackageSigner.Generate();
        string[] args =
        [
            "--environment=Production",
            "--PdM:Modules=all",
            "--Urls=http://127.0.0.1:0",
            $"--ConnectionStrings:Postgres={_database.ConnectionString}",
            "--Messaging:Transport=RabbitMq",
            $"--Messaging:RabbitMq:Uri={vhost}",
            $"--Registry:StateDirectory={Path.Combine(_state, "registry")}",
            $"--Registry:Signing:PrivateKeyPem={signer.ExportPrivateKeyPem()}",
            $"--Training:ModelStorePath={Path.Combine(_state, "models")}",
            .. Tokens.Arguments,
        ];

        Assert.Equal(0, await MigrateCommand.RunAsync(args));
        _app = HostComposition.Build(args, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(Logs);
        });
        await _app.StartAsync();
        Address = new Uri(ListeningAddress.Of(_app));
        _clients = new TestClients(Address, Tokens);
        Api = CreateClient("test-admin", PdMRoles.Admin);
    }

    public string Token(string user, params string[] roles) => Tokens.Issue(user, roles);

    public HttpClient CreateClient(string user, params string[] roles) => _clients!.Create(user, roles);

    public HttpClient CreateClientWithToken(string? accessToken) => _clients!.CreateWithToken(accessToken);

    public async Task DisposeAsync()
    {
        _clients?.Dispose();

        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        Tokens.Dispose();
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }
}
