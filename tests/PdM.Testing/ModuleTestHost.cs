using System.Security.Cryptography;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdM.Authentication;
using PdM.Hosting;
using PdM.Messaging;
using PdM.Security;

namespace PdM.Testing;

/// <summary>
/// One cloud module on a real web host for its tests, composed from its <see cref="PdMModule"/> descriptor exactly as
/// PdM.Host composes it: services, consumers on the one bus, endpoints (behind the PdM access control), migrations
/// applied before start. Listens on a free loopback port; <see cref="Api"/> points at it with an admin token, and
/// <see cref="CreateClient"/> gives a client acting as any user and roles. Tokens come from a
/// <see cref="TestTokenIssuer"/> the host trusts as a static issuer, so any environment (Production included) works.
/// </summary>
public sealed class ModuleTestHost : IAsyncDisposable
{
    private readonly TestClients _clients;

    private ModuleTestHost(WebApplication app, Uri address, TestTokenIssuer tokens, ModuleTestBackend? backend)
    {
        App = app;
        Address = address;
        Tokens = tokens;
        Backend = backend;
        _clients = new TestClients(address, tokens);
        Api = CreateClient("test-admin", PdMRoles.Admin);
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    /// <summary>Acts as the user <c>test-admin</c> with the role admin (satisfies every policy).</summary>
    public HttpClient Api { get; }

    /// <summary>Mints the tokens this host accepts (expired, not-yet-valid, with a site...).</summary>
    public TestTokenIssuer Tokens { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>The database and vhost the host was started on and owns (null when the test passed its own settings).</summary>
    public ModuleTestBackend? Backend { get; }

    public IBus Bus => App.Services.GetRequiredService<IBus>();

    /// <param name="environment">Host environment; null keeps the framework's default (from ASPNETCORE_ENVIRONMENT, else Production).</param>
    /// <param name="configure">Extra registrations (test collectors, fakes of nothing but the test's own probes).</param>
    /// <param name="consumers">Extra consumers on the same bus, e.g. an event collector.</param>
    public static Task<ModuleTestHost> StartAsync(
        PdMModule module,
        IEnumerable<KeyValuePair<string, string?>> settings,
        ILoggerProvider logs,
        string? environment = null,
        Action<WebApplicationBuilder>? configure = null,
        Action<IBusRegistrationConfigurator>? consumers = null) =>
        StartAsync([module ?? throw new ArgumentNullException(nameof(module))], settings, logs, environment, configure, consumers);

    /// <summary>
    /// <paramref name="module"/> on <paramref name="backend"/>, which the host takes over: the backend's settings come
    /// first and <paramref name="settings"/> (the module's own) after them, and the backend's database is dropped when
    /// the host is disposed, once the host has stopped (or at once if the host does not start).
    /// </summary>
    public static Task<ModuleTestHost> StartAsync(
        PdMModule module,
        ModuleTestBackend backend,
        IEnumerable<KeyValuePair<string, string?>> settings,
        ILoggerProvider logs,
        string? environment = null,
        Action<WebApplicationBuilder>? configure = null,
        Action<IBusRegistrationConfigurator>? consumers = null) =>
        StartAsync([module ?? throw new ArgumentNullException(nameof(module))], backend, settings, logs, environment, configure, consumers);

    /// <summary>Several modules on one host and one bus, on <paramref name="backend"/>, which the host takes over (as the single-module overload).</summary>
    public static async Task<ModuleTestHost> StartAsync(
        IReadOnlyList<PdMModule> modules,
        ModuleTestBackend backend,
        IEnumerable<KeyValuePair<string, string?>> settings,
        ILoggerProvider logs,
        string? environment = null,
        Action<WebApplicationBuilder>? configure = null,
        Action<IBusRegistrationConfigurator>? consumers = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        try
        {
            return await StartCoreAsync(modules, backend, [.. backend.Settings, .. settings], logs, environment, configure, consumers);
        }
        catch
        {
            await backend.DisposeAsync();
            throw;
        }
    }

    /// <summary>Several modules on one host and one bus, as PdM.Host composes them (<c>PdM:Modules</c>).</summary>
    public static Task<ModuleTestHost> StartAsync(
        IReadOnlyList<PdMModule> modules,
        IEnumerable<KeyValuePair<string, string?>> settings,
        ILoggerProvider logs,
        string? environment = null,
        Action<WebApplicationBuilder>? configure = null,
        Action<IBusRegistrationConfigurator>? consumers = null) =>
        StartCoreAsync(modules, backend: null, settings, logs, environment, configure, consumers);

    private static async Task<ModuleTestHost> StartCoreAsync(
        IReadOnlyList<PdMModule> modules,
        ModuleTestBackend? backend,
        IEnumerable<KeyValuePair<string, string?>> settings,
        ILoggerProvider logs,
        string? environment,
        Action<WebApplicationBuilder>? configure,
        Action<IBusRegistrationConfigurator>? consumers)
    {
        ArgumentNullException.ThrowIfNull(modules);
        var builder = environment is null
            ? WebApplication.CreateBuilder()
            : WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        var tokens = new TestTokenIssuer();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Configuration.AddInMemoryCollection(tokens.Settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        configure?.Invoke(builder);
        builder.AddPdMAuthentication();
        foreach (var module in modules)
        {
            module.AddServices(builder);
        }

        builder.AddPdMMessaging(bus =>
        {
            foreach (var module in modules)
            {
                module.AddConsumers(bus);
            }

            consumers?.Invoke(bus);
        });

        // Start returns once the receive endpoints are bound: a test's first publish must not go to an exchange with no queue.
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        var app = builder.Build();
        try
        {
            foreach (var module in modules)
            {
                module.MapEndpoints(app);
            }

            app.MapPdMAuthEndpoints();
            app.UsePdMEndpointPolicyGuard();
        }
        catch
        {
            await app.DisposeAsync();
            tokens.Dispose();
            throw;
        }
        foreach (var contextType in modules.Select(m => m.DbContextType).OfType<Type>())
        {
            await using var scope = app.Services.CreateAsyncScope();
            await ((DbContext)scope.ServiceProvider.GetRequiredService(contextType)).Database.MigrateAsync();
        }

        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            tokens.Dispose();
            throw;
        }

        return new ModuleTestHost(app, new Uri(ListeningAddress.Of(app)), tokens, backend);
    }

    /// <inheritdoc cref="TestClients.Token"/>
    public string Token(string user, params string[] roles) => _clients.Token(user, roles);

    /// <inheritdoc cref="TestClients.Create"/>
    public HttpClient CreateClient(string user, params string[] roles) => _clients.Create(user, roles);

    /// <inheritdoc cref="TestClients.CreateWithToken"/>
    public HttpClient CreateClientWithToken(string? accessToken) => _clients.CreateWithToken(accessToken);

    public async ValueTask DisposeAsync()
    {
        _clients.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        Tokens.Dispose();
        if (Backend is not null)
        {
            await Backend.DisposeAsync();
        }
    }
}

/// <summary>
/// A token issuer of its own for a test host (issuer <c>pdm-test</c>, audience <c>pdm</c>, a fresh P-256 key), trusted
/// through <c>Auth:StaticIssuers</c>: <see cref="Settings"/> as configuration, or <see cref="Arguments"/> on a command
/// line (PdM.Host). The same claims as the development issuer.
/// </summary>
public sealed class TestTokenIssuer : IDisposable
{
    public const string IssuerName = "pdm-test";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly DevelopmentTokenIssuer _issuer;

    public TestTokenIssuer() => _issuer = new DevelopmentTokenIssuer(Copy(_key), TimeProvider.System, IssuerName);

    /// <summary>The public key hosts trust this issuer by (anyone may read it: the key-confusion attack starts here).</summary>
    public string PublicKeyPem => _issuer.PublicKeyPem;

    /// <summary>Configuration trusting this issuer (entry 9 of <c>Auth:StaticIssuers</c>, so a test's own entries keep theirs).</summary>
    public IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Auth:StaticIssuers:9:Issuer"] = IssuerName,
        ["Auth:StaticIssuers:9:Audience"] = DevelopmentTokenIssuer.AudienceName,
        ["Auth:StaticIssuers:9:PublicKeyPem"] = _issuer.PublicKeyPem,
    };

    /// <summary><see cref="Settings"/> as <c>--key=value</c> arguments.</summary>
    public IReadOnlyList<string> Arguments => Settings.Select(s => $"--{s.Key}={s.Value}").ToList();

    public string Issue(string user, IEnumerable<string> roles, string? site = null, TimeSpan? lifetime = null, DateTimeOffset? notBefore = null) =>
        _issuer.Issue(user, roles, site, lifetime, notBefore);

    /// <summary>
    /// An admin token signed with this issuer's real key but naming another <paramref name="issuer"/> or
    /// <paramref name="audience"/>: a host must refuse it although the signature verifies.
    /// </summary>
    public string IssueVariant(string? issuer = null, string? audience = null)
    {
        using var variant = new DevelopmentTokenIssuer(Copy(_key), TimeProvider.System, issuer ?? IssuerName, audience ?? DevelopmentTokenIssuer.AudienceName);
        return variant.Issue("mallory", [PdMRoles.Admin]);
    }

    /// <summary>One issuer for a whole test process, for hosts a test builds from command-line arguments.</summary>
    public static TestTokenIssuer Shared { get; } = new();

    /// <summary>An HTTP client for <paramref name="baseAddress"/> carrying an admin token of this issuer.</summary>
    public HttpClient AdminClient(string baseAddress) => TestClients.WithBearer(new Uri(baseAddress), Issue("test-admin", [PdMRoles.Admin]));

    public void Dispose()
    {
        _issuer.Dispose();
        _key.Dispose();
    }

    private static ECDsa Copy(ECDsa key) => ECDsa.Create(key.ExportParameters(includePrivateParameters: true));
}
