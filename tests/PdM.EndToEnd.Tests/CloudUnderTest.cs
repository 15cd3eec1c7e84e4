using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using PdM.Authentication;
using PdM.Host;
using PdM.Testing;

namespace PdM.EndToEnd.Tests;

/// <summary>
/// The cloud of an end-to-end test: PdM.Host in this process, as an operator runs it, on a fresh PostgreSQL database
/// and a RabbitMQ vhost of its own: migrated first by its own <c>migrate</c> command, then started on a free loopback
/// port. Disposing stops the host and drops the database.
/// </summary>
internal sealed class CloudUnderTest : IAsyncDisposable
{
    private readonly ModuleTestBackend _backend;
    private readonly WebApplication _app;

    private CloudUnderTest(ModuleTestBackend backend, WebApplication app)
    {
        _backend = backend;
        _app = app;
        Address = ListeningAddress.Of(app);
    }

    /// <summary>Where the host listens, as it reports it (<c>http://127.0.0.1:port</c>).</summary>
    public string Address { get; }

    /// <summary>The cloud's vhost, as an AMQP URI with credentials: where a gateway of the test publishes.</summary>
    public Uri RabbitMq => _backend.RabbitMq;

    public string ConnectionString => _backend.ConnectionString;

    public IServiceProvider Services => _app.Services;

    /// <param name="prefix">Names the database and the vhost (made unique to the run).</param>
    /// <param name="arguments">The host's own arguments after the database, bus and port: modules and their settings.</param>
    /// <param name="configure">Extra registrations, e.g. a log capture.</param>
    public static async Task<CloudUnderTest> StartAsync(string prefix, IEnumerable<string> arguments, Action<WebApplicationBuilder>? configure = null)
    {
        var backend = await ModuleTestBackend.CreateAsync(prefix);
        string[] all =
        [
            $"--ConnectionStrings:Postgres={backend.ConnectionString}",
            "--Messaging:Transport=RabbitMq",
            $"--Messaging:RabbitMq:Uri={backend.RabbitMq}",
            "--Urls=http://127.0.0.1:0",
            .. arguments,
        ];
        WebApplication? app = null;
        try
        {
            Assert.Equal(0, await MigrateCommand.RunAsync(all));
            app = HostComposition.Build(all, configure);
            await app.StartAsync();
            return new CloudUnderTest(backend, app);
        }
        catch
        {
            // The test's DisposeAsync never sees a cloud that did not start: drop what was made for it here.
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            await backend.DisposeAsync();
            throw;
        }
    }

    /// <summary>A token of the host's development issuer (the host must run in the Development environment).</summary>
    public string DevelopmentToken(string user, params string[] roles) =>
        _app.Services.GetRequiredService<DevelopmentTokenIssuer>().Issue(user, roles);

    /// <summary>A client of the host's API sending <paramref name="bearerToken"/> (null: no Authorization header); the caller disposes it.</summary>
    public HttpClient Client(string? bearerToken) => TestClients.WithBearer(new Uri(Address), bearerToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _backend.DisposeAsync();
    }
}
